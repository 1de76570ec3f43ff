from celery import shared_task

from notifications.services import run_job

from .services import applications_expire_stale


@shared_task(name="applications.tasks.expire_unfinished_applications")
def expire_unfinished_applications() -> int:
    """Nightly: drafts not completed in time become registration_expired. Safe to rerun.
    The run is recorded in Job runs, which /healthz watches."""
    return run_job("expire_unfinished_applications", lambda today: applications_expire_stale()).sent
