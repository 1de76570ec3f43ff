from celery import shared_task

from .imports import import_run_execute
from .models import ImportRun


@shared_task(name="funding.tasks.run_import")
def run_import(import_run_id: int) -> str:
    """Run one queued import; a second delivery finds it already claimed and does nothing."""
    run = import_run_execute(ImportRun.objects.get(pk=import_run_id))
    return run.status
