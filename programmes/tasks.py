from datetime import date

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from .engagement import tally_course, tally_queued_key
from .models import Course, Participant


@shared_task(name="programmes.tasks.tally_course")
def tally_course_task(course_id: int, today: str | None = None) -> int:
    """Recompute a course's engagement tallies. Safe to run twice or at once."""
    # Changes made from now on queue a fresh run rather than being folded into this one.
    cache.delete(tally_queued_key(course_id))
    return tally_course(course_id=course_id, today=date.fromisoformat(today) if today else None)


@shared_task(name="programmes.tasks.tally_all_courses")
def tally_all_courses(today: str | None = None) -> int:
    """Nightly: queue a tally of every course with participants still on it."""
    today = today or timezone.localdate().isoformat()
    course_ids = (
        Course.objects.filter(participants__status__in=Participant.LIVE_STATUSES)
        .values_list("pk", flat=True)
        .distinct()
    )
    for course_id in course_ids:
        tally_course_task.delay(course_id, today)
    return len(course_ids)
