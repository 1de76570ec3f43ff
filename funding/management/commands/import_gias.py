"""python manage.py import_gias FILE [--queue]

Loads GIAS establishments (the 'edubasealldata' CSV, Windows-1252 or UTF-8), all or nothing:
bad values are reported with their line numbers and those rows skipped while the rest load; a
file with the wrong columns, a row of the wrong shape or an undecidable encoding loads nothing.
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from funding.imports import import_run_execute
from funding.models import ImportRun
from funding.tasks import run_import


class Command(BaseCommand):
    help = "Import GIAS establishments from an edubasealldata CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--queue", action="store_true", help="Run on a Celery worker instead of here.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        with path.open("rb") as handle:
            run = ImportRun.objects.create(kind=ImportRun.Kind.GIAS, file=File(handle, name=path.name))
        if options["queue"]:
            transaction.on_commit(lambda: run_import.delay(run.pk))
            self.stdout.write(f"Queued import #{run.pk}; follow it in admin (Funding > Import runs).")
            return
        run = import_run_execute(run)
        for line, message in run.problems:
            self.stderr.write(f"line {line}: {message}")
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(run.message)
        self.stdout.write(self.style.SUCCESS(run.message))
