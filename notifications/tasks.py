from datetime import date

from celery import shared_task
from django.conf import settings

from .reminders import JOBS
from .services import DeliveryFailed, deliver_notification, run_job


@shared_task(name="notifications.tasks.deliver")
def deliver(notification_id: int, attempt: int = 1) -> str:
    """Send one recorded notification. The mail server is the network: a failure is recorded on
    the row and a new attempt queued with exponential backoff, until NOTIFICATION_MAX_ATTEMPTS."""
    try:
        return deliver_notification(notification_id)
    except DeliveryFailed:
        countdown = min(settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1), 3600)
        deliver.apply_async(args=[notification_id], kwargs={"attempt": attempt + 1}, countdown=countdown)
        return "retrying"


@shared_task(name="notifications.tasks.run_scheduled_job")
def run_scheduled_job(name: str, today: str | None = None) -> int:
    """Beat's entry point for every reminder job: one run at a time, recorded for the jobs page."""
    run = run_job(name, JOBS[name], date.fromisoformat(today) if today else None)
    return run.sent
