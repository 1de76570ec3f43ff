"""python manage.py import_eligibility_list FILE --round 2025 [--kind pp50_school] [--confirm] [--queue]

Replaces one of a round's eligibility lists with the file's settings, all or nothing. DfE's six
list files say which list they are in their header (funding/dfe_lists.py), so --kind is needed
only for a file of another shape; given for a DfE file, it must be that file's list. A file
that would leave fewer than half of the list's entries changes nothing: the command shows the
changes and exits 1; run it again with --confirm to replace the list anyway.
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from funding.dfe_lists import ListFormatError, header_of, list_name, resolve_kind
from funding.imports import import_run_execute
from funding.models import EligibilityListEntry, FundingRound, ImportRun
from funding.tasks import run_import


class Command(BaseCommand):
    help = "Replace a funding round's eligibility list with a CSV file's URNs, UKPRNs or Ofsted URNs."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--round", required=True, dest="round_code", help="The funding round's code, e.g. 2025."
        )
        parser.add_argument(
            "--kind",
            default="",
            choices=EligibilityListEntry.Kind.values,
            help="Which list: read from the header of DfE's files; needed for a file of another shape.",
        )
        parser.add_argument(
            "--confirm",
            action="store_true",
            help="Replace the list even if the file has fewer than half of its entries.",
        )
        parser.add_argument("--queue", action="store_true", help="Run on a Celery worker instead of here.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        funding_round = FundingRound.objects.filter(code=options["round_code"]).first()
        if funding_round is None:
            raise CommandError(f"There is no funding round {options['round_code']!r}.")
        with path.open("rb") as handle:
            try:
                list_kind, _ = resolve_kind(header_of(handle.read(64 * 1024)), options["kind"])
            except ListFormatError as exc:
                raise CommandError(f"{exc} Nothing was loaded.") from None
            handle.seek(0)
            run = ImportRun.objects.create(
                kind=ImportRun.Kind.ELIGIBILITY_LIST,
                file=File(handle, name=path.name),
                funding_round=funding_round,
                list_kind=list_kind,
            )
        if options["confirm"]:
            # Confirmed for whatever the list is when the run replaces it.
            ImportRun.objects.filter(pk=run.pk).update(confirmed_at=timezone.now())
            run.refresh_from_db()
        if options["queue"]:
            transaction.on_commit(lambda: run_import.delay(run.pk))
            self.stdout.write(f"Queued import #{run.pk}; follow it in admin (Funding > Import runs).")
            return
        run = import_run_execute(run)
        for line, message in run.problems:
            self.stderr.write(f"line {line}: {message}")
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(run.message)
        if run.status == ImportRun.Status.NEEDS_CONFIRMATION:
            changes = run.changes
            self.stderr.write(
                f"Would remove {changes['removed']} (such as {', '.join(changes['removed_sample'][:5]) or 'none'}) "
                f"and add {changes['added']} (such as {', '.join(changes['added_sample'][:5]) or 'none'})."
            )
            raise CommandError(f"{run.message} Run the command again with --confirm to replace the list.")
        self.stdout.write(
            self.style.SUCCESS(f"{list_name(run.list_kind)} ({funding_round.code}): {run.message}")
        )
