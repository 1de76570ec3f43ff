from datetime import date

from celery import shared_task
from django.conf import settings

from .jobs import RETRY_ON_OUTAGE, job_named, run_job
from .services import DeliveryFailed, deliver_notification, queue_delivery


# No result is kept: the row records the outcome. (Queueing a task whose result is kept also
# subscribes to the result backend, which with Redis down blocked for 20 s and then raised.)
@shared_task(name="notifications.tasks.deliver", ignore_result=True, **RETRY_ON_OUTAGE)
def deliver(notification_id: int, attempt: int = 1) -> str:
    """Send one recorded notification. A failure of the mail server is recorded on the row: quick
    retries are queued here with a countdown, later ones by the sweeper (``attempt`` is unused,
    kept for messages queued before it was)."""
    try:
        return deliver_notification(notification_id)
    except DeliveryFailed as failed:
        queue_delivery(notification_id, countdown=max(failed.countdown, 0))
        return "retrying"


@shared_task(bind=True, name="notifications.tasks.run_scheduled_job", **RETRY_ON_OUTAGE)
def run_scheduled_job(self, name: str, today: str | None = None, taking_over: bool = False) -> int:
    """Beat's entry point for every reminder job (registered by name, jobs.py): one run at a time,
    recorded for the jobs page. A name no app registered fails at once (UnknownJob, a KeyError).

    A run that finds the job's lock held is skipped (another run is on it), except when this
    task was handed back after its worker was killed: the lock may be held by its own killed run,
    whose database session lives on until its statement ends. It looks again shortly (with
    ``taking_over``) rather than miss the day; the run that gets the lock skips what is recorded.
    """
    run = run_job(name, job_named(name), date.fromisoformat(today) if today else None)
    redelivered = (self.request.delivery_info or {}).get("redelivered", False)
    if run.skipped_overlap and (redelivered or taking_over):
        delay = min(settings.TASK_RETRY_BACKOFF_SECONDS * 2**self.request.retries, 600)
        raise self.retry(args=[name, today, True], kwargs={}, countdown=delay)
    return run.sent
