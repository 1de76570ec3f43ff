from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from notifications.services import run_job


def _delete_expired_sessions(today) -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(name="accounts.tasks.clear_expired_sessions")
def clear_expired_sessions() -> int:
    """Nightly: delete expired sessions so the table does not grow for ever. Safe to rerun.
    The run is recorded in Job runs, which /healthz watches."""
    return run_job("clear_expired_sessions", _delete_expired_sessions).sent
