"""Engagement: the weighted share of required activities due so far that a participant completed.

DfE fixes the bar at 90% to reach the summative assessment. Excused absences (exceptional
circumstances) are left out of both sides. The tally of a course is one SQL statement: the ORM's
aggregate over participants x activities x their marks, inside an INSERT ... ON CONFLICT that
stores it. Never a query per participant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    DecimalField,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from .models import Activity, Attendance, EngagementTally, Participant

ENGAGEMENT_BAR = Decimal("90")  # fixed by DfE
DONE = (Attendance.Status.ATTENDED, Attendance.Status.COMPLETED)


def _start_of_next_day(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


# From the weights to what is stored: percent = done / due, NULL when nothing is due yet ("not
# started": never a division by zero); the projection as if everything still to come is completed;
# on track at or above the bar, judged on the exact ratio (89.997% is not 90%, though it shows
# as 90.00). (100.0 keeps SQLite from dividing whole numbers as integers.)
# Computed once per participant over the aggregate's output, not inside it.
ARITHMETIC = f"""
    t.pk, t.done, t.due,
    CASE WHEN t.due > 0 THEN ROUND(t.done * 100.0 / t.due, 2) END,
    CASE WHEN t.due + t.future > 0 THEN ROUND((t.done + t.future) * 100.0 / (t.due + t.future), 2) END,
    t.due = 0 OR t.done * 100 >= {int(ENGAGEMENT_BAR)} * t.due,
    %s
"""


def course_tally_queryset(*, course_ids: list[int], today: date) -> QuerySet:
    """One row per live participant of the courses: (participant, done, due, future) weights.

    ``due`` counts the required activities due by ``today`` that were not excused, ``done`` those
    of them attended or completed, ``future`` the ones still to come (not excused).
    """
    activity = "course__activities"
    counted = Q(**{f"{activity}__required": True, f"{activity}__counts_towards_engagement": True}) & (
        Q(**{f"{activity}__group__isnull": True}) | Q(**{f"{activity}__group": F("group")})
    )
    due = Q(**{f"{activity}__starts_at__lt": _start_of_next_day(today)}) | Q(
        **{f"{activity}__due_on__lte": today}
    )
    not_excused = Q(mark__status__isnull=True) | ~Q(mark__status=Attendance.Status.EXCUSED)
    weight = f"{activity}__weight"
    decimal = DecimalField(max_digits=9, decimal_places=2)
    return (
        Participant.objects.filter(course_id__in=course_ids, status__in=Participant.LIVE_STATUSES)
        # Filtering before annotating restricts the join itself to the counted activities.
        .filter(counted)
        .annotate(
            mark=FilteredRelation(
                f"{activity}__attendances", condition=Q(**{f"{activity}__attendances__participant": F("pk")})
            )
        )
        .order_by()
        .values("pk")
        .annotate(
            done=Sum(weight, filter=due & Q(mark__status__in=DONE), default=Value(0), output_field=decimal),
            due=Sum(weight, filter=due & not_excused, default=Value(0), output_field=decimal),
            future=Sum(weight, filter=~due & not_excused, default=Value(0), output_field=decimal),
        )
        .values_list("pk", "done", "due", "future")
    )


def tally_course(*, course_id: int, today: date | None = None) -> int:
    """Recompute and store the tallies of one course (after a register or an import)."""
    return tally_courses(course_ids=[course_id], today=today)


def tally_courses(*, course_ids: list[int], today: date | None = None) -> int:
    """Recompute and store the tallies of the courses' live participants. Idempotent; returns how many.

    The ORM's aggregate runs inside one INSERT ... SELECT ... ON CONFLICT statement, so no row
    travels to Python and back; the nightly job passes every course at once.
    """
    course_ids = sorted(set(course_ids))
    if not course_ids:
        return 0
    today = today or timezone.localdate()
    now = timezone.now()
    sql, params = course_tally_queryset(course_ids=course_ids, today=today).query.sql_with_params()
    table = EngagementTally._meta.db_table
    with transaction.atomic():
        _serialise_per_course(course_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (participant_id, done_weight, due_weight, percent, projected_percent,"  # noqa: S608 - table name from the model
                f" on_track, computed_at) SELECT {ARITHMETIC} FROM ({sql}) t WHERE true"
                " ON CONFLICT (participant_id) DO UPDATE SET done_weight = excluded.done_weight,"
                " due_weight = excluded.due_weight, percent = excluded.percent,"
                " projected_percent = excluded.projected_percent, on_track = excluded.on_track,"
                " computed_at = excluded.computed_at",
                [connection.ops.adapt_datetimefield_value(now), *params],  # in placeholder order
            )
            stored = cursor.rowcount
        # Tallies this run did not write are stale: withdrawn or completed participants, or
        # participants with no counted activities left (shown as "not started").
        EngagementTally.objects.filter(participant__course_id__in=course_ids).exclude(
            computed_at=now
        ).delete()
    return stored


TALLY_LOCK_SPACE = 6001  # advisory lock namespace of engagement tallies


def _serialise_per_course(course_ids: list[int]) -> None:
    """Two runs for a course at once take turns (PostgreSQL); each then reads committed marks.
    Locks are taken in course order so that overlapping runs cannot deadlock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(%s, id)) FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) ids",
                [TALLY_LOCK_SPACE, course_ids],
            )


def schedule_tally(*, course_id: int) -> None:
    """Queue a tally of the course once the current transaction commits, debounced: a burst of
    register saves or imports within TALLY_DEBOUNCE_SECONDS queues one run."""

    def queue() -> None:
        from .tasks import tally_course_task

        if cache.add(tally_queued_key(course_id), True, timeout=settings.TALLY_DEBOUNCE_SECONDS + 60):
            tally_course_task.apply_async(args=[course_id], countdown=settings.TALLY_DEBOUNCE_SECONDS)

    transaction.on_commit(queue)


def tally_queued_key(course_id: int) -> str:
    return f"engagement:tally-queued:{course_id}"


def participant_activities(*, participant: Participant) -> list[tuple[Activity, str | None]]:
    """The participant's activities in date order with their mark (for their own page)."""
    activities = (
        Activity.objects.filter(course_id=participant.course_id)
        .filter(Q(group__isnull=True) | Q(group_id=participant.group_id))
        .order_by("starts_at", "due_on", "title")
    )
    marks = dict(Attendance.objects.filter(participant=participant).values_list("activity_id", "status"))
    return [(activity, marks.get(activity.pk)) for activity in activities]


def distribution(percents: list[Decimal | None], *, bins: int = 10) -> list[int]:
    """How many participants fall in each 10%-wide band (100% goes in the top band)."""
    counts = [0] * bins
    for percent in percents:
        if percent is None:
            continue
        index = min(int(percent // (100 // bins)), bins - 1)
        counts[index] += 1
    return counts
