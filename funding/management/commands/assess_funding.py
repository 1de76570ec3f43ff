"""python manage.py assess_funding FILE|-  (the contract in docs/domain.md)

Reads a JSON list of fact objects and prints a JSON list of decisions in the same order.
Needs no database rows. Malformed input: exit status 2, a message naming the item and the
field, and nothing printed on standard output.
"""

import json
import sys

from django.core.management.base import BaseCommand

from funding.eligibility import FactsError, decide, parse_facts


class Command(BaseCommand):
    help = "Decide funding for a JSON list of facts (FILE, or - for standard input)."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="A JSON file of facts, or - to read standard input.")

    def handle(self, *args, **options):
        source = options["file"]
        try:
            text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()  # noqa: SIM115
        except OSError as exc:
            self._fail(f"cannot read {source}: {exc.strerror}")
        except UnicodeDecodeError:
            self._fail(f"{source} is not UTF-8 text")
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            self._fail(f"input is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
        if not isinstance(items, list):
            self._fail("input must be a JSON list of fact objects")
        decisions = []
        for index, item in enumerate(items):
            try:
                decisions.append(decide(parse_facts(item)).as_json())
            except FactsError as exc:
                self._fail(f"item {index}: {exc}")
        self.stdout.write(json.dumps(decisions, indent=2))

    def _fail(self, message: str) -> None:
        self.stderr.write(f"assess_funding: {message}")
        sys.exit(2)
