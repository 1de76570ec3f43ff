from celery import shared_task
from django.utils import timezone

from notifications.services import run_job

from .imports import import_run_execute, import_runs_fail_stale
from .models import ImportRun


@shared_task(name="funding.tasks.run_import")
def run_import(import_run_id: int) -> str:
    """Run one queued import. A second delivery finds it claimed and does nothing; a delivery
    after its worker died (acks_late) takes the run over (funding/imports.py)."""
    run = import_run_execute(ImportRun.objects.get(pk=import_run_id))
    return run.status


@shared_task(name="funding.tasks.fail_stale_imports")
def fail_stale_imports() -> int:
    """Every 5 minutes: fail import runs whose worker has gone silent (IMPORT_STALE_MINUTES);
    recorded in Job runs (its count is the runs failed), which /healthz watches."""
    return run_job("fail_stale_imports", lambda day: import_runs_fail_stale(now=timezone.now())).sent
