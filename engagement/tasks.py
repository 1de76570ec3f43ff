from datetime import date

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from notifications.services import RETRY_ON_OUTAGE, run_job
from programmes.models import Course, Participant

from .tally import tally_course, tally_courses, tally_queued_key


@shared_task(name="engagement.tasks.tally_course", **RETRY_ON_OUTAGE)
def tally_course_task(course_id: int, today: str | None = None) -> int:
    """Recompute a course's engagement tallies. Safe to run twice or at once (so retried with
    backoff when the database or broker is away)."""
    # Changes made from now on queue a fresh run rather than being folded into this one.
    cache.delete(tally_queued_key(course_id))
    return tally_course(course_id=course_id, today=date.fromisoformat(today) if today else None)


def _tally_live_courses(today: date) -> int:
    course_ids = list(
        Course.objects.filter(participants__status__in=Participant.LIVE_STATUSES)
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )
    return tally_courses(course_ids=course_ids, today=today)


@shared_task(name="engagement.tasks.tally_all_courses", **RETRY_ON_OUTAGE)
def tally_all_courses(today: str | None = None) -> int:
    """Nightly: tally every course with participants still on it, in one statement; the run is
    recorded in Job runs (its count is the tallies written), which /healthz watches. Retried with
    backoff when the database or broker is away: the statement replaces the tallies whole, so a
    retry after an aborted run leaves them as one clean run would."""
    day = date.fromisoformat(today) if today else timezone.localdate()
    return run_job("tally_all_courses", _tally_live_courses, day).sent


# The names these tasks had before engagement moved out of programmes (issue #15). A message
# queued by the release before the move (a debounced course tally, beat's nightly run) reaches
# a worker of this one by its name: without these it would be dropped as an unregistered task,
# and the course's tally left stale (its debounce key still set) until the next run.
@shared_task(name="programmes.tasks.tally_course", **RETRY_ON_OUTAGE)
def tally_course_queued_before_the_move(course_id: int, today: str | None = None) -> int:
    return tally_course_task(course_id, today)


@shared_task(name="programmes.tasks.tally_all_courses", **RETRY_ON_OUTAGE)
def tally_all_courses_queued_before_the_move(today: str | None = None) -> int:
    return tally_all_courses(today)
