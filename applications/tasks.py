from celery import shared_task

from notifications.services import RETRY_ON_OUTAGE, run_job

from .services import applications_expire_stale, waiting_lists_offer, waitlist_offer_places


@shared_task(name="applications.tasks.expire_unfinished_applications")
def expire_unfinished_applications() -> int:
    """Nightly: drafts not completed in time become registration_expired. Safe to rerun.
    The run is recorded in Job runs, which /healthz watches."""
    return run_job("expire_unfinished_applications", lambda today: applications_expire_stale()).sent


@shared_task(name="applications.tasks.offer_freed_places", **RETRY_ON_OUTAGE)
def offer_freed_places(course_id: int) -> int:
    """After a withdrawal: offer the course's free places to its waiting list. Safe to run twice
    or at once, so retried with backoff when the database or broker is away."""
    return len(waitlist_offer_places(course_id=course_id))


@shared_task(name="applications.tasks.offer_waiting_lists", **RETRY_ON_OUTAGE)
def offer_waiting_lists() -> int:
    """Every few minutes: any course with a freed place not yet settled, or with free places and
    people waiting, has them offered (catches an offer whose job was lost). Recorded in Job runs."""
    return run_job("offer_waiting_lists", waiting_lists_offer).sent
