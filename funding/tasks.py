from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications.services import run_job

from .imports import import_run_execute, import_runs_fail_stale
from .models import ImportRun


@shared_task(bind=True, name="funding.tasks.run_import", max_retries=20)
def run_import(self, import_run_id: int) -> str:
    """Run one queued import. A delivery after its worker died (acks_late) takes the run over
    (funding/imports/runs.py). A delivery that finds the run held by another session looks again
    shortly: the holder may be the killed worker's session, still finishing its statement (the
    load of a large file) before the database notices and releases the run; once released, it
    is taken over. After 20 looks a live worker is on it, and this delivery stops."""
    run = import_run_execute(ImportRun.objects.get(pk=import_run_id))
    if run.status == ImportRun.Status.RUNNING:
        raise self.retry(countdown=settings.TASK_RETRY_BACKOFF_SECONDS)
    return run.status


@shared_task(name="funding.tasks.fail_stale_imports")
def fail_stale_imports() -> int:
    """Every 5 minutes: fail import runs whose worker has gone silent (IMPORT_STALE_MINUTES);
    recorded in Job runs (its count is the runs failed), which /healthz watches."""
    return run_job("fail_stale_imports", lambda day: import_runs_fail_stale(now=timezone.now())).sent
