from celery import shared_task

from .services import applications_expire_stale


@shared_task(name="applications.tasks.expire_unfinished_applications")
def expire_unfinished_applications() -> int:
    """Nightly: drafts not completed in time become registration_expired. Safe to rerun."""
    return applications_expire_stale()
