"""Engagement: the weighted share of required activities due and recorded so far that a
participant completed.

DfE fixes the bar at 90% to reach the summative assessment. Excused absences (exceptional
circumstances) are left out of both sides, and so is an activity whose record has not come in
yet ("awaiting record": its register not taken, its LMS export not imported). The tally of a
course is one SQL statement: the ORM's aggregate over participants x activities x their marks and
registers, inside an INSERT ... ON CONFLICT that stores it. Never a query per participant.

An activity due so far is *recorded* for a participant (decisions.md, "Awaiting record") when
- they have a mark for it (from a register or an LMS import), or
- its register has been taken for their group (for participants without a group: the register
  of the course's participants without a group), or
- an LMS import included it on a day after its date (``Activity.imported_on``), or
- it is a task (a due date, no session time) whose due date is ``TASK_RECORD_DAYS`` days past.
Recorded and not attended, completed or excused is *missed*; due and not recorded is *awaiting
record*: counted on neither side, and still possible in the projection.
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
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Activity, Attendance, EngagementTally, Participant, Register

ENGAGEMENT_BAR = Decimal("90")  # fixed by DfE
DONE = (Attendance.Status.ATTENDED, Attendance.Status.COMPLETED)
# A task (an online unit, a reflection) with no LMS record this many days after its due date is
# recorded as missed by those who have no completion: hubs import their LMS export weekly.
TASK_RECORD_DAYS = 7


class State:
    """What an activity is for one participant: the same words on their page and staff's grid."""

    DONE = "done"  # attended or completed (counted; work done ahead of its date shows too)
    MISSED = "missed"  # due, recorded, and not attended, completed or excused
    EXCUSED = "excused"  # exceptional circumstances: left out of both sides
    AWAITING = "awaiting"  # due, but its register or LMS record has not come in yet: not counted
    UPCOMING = "upcoming"  # not due yet


def _start_of_next_day(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


# From the weights to what is stored: percent = done / due (due: recorded and not excused), NULL
# when nothing is counted yet (never a division by zero); the projection as if everything still
# possible is completed: the activities to come and those awaiting their record (missed ones are
# not); on track at or above the bar, judged on the exact ratio (89.997% is not 90%, though it
# shows as 90.00), or when nothing is counted yet. (100.0 keeps SQLite from dividing whole numbers
# as integers.) Computed once per participant over the aggregate's output, not inside it.
ARITHMETIC = f"""
    t.pk, t.done, t.due, t.due_all - t.due,
    CASE WHEN t.due > 0 THEN ROUND(t.done * 100.0 / t.due, 2) END,
    CASE WHEN t.due_all + t.future > 0
         THEN ROUND((t.done + t.due_all - t.due + t.future) * 100.0 / (t.due_all + t.future), 2) END,
    t.due = 0 OR t.done * 100 >= {int(ENGAGEMENT_BAR)} * t.due,
    %s
"""


def _recorded(activity: str, *, today: date) -> Q:
    """The activity's record has come in for this participant (see the module's docstring).
    Only ever used un-negated: NULLs (no mark, no register, no import) read as "not recorded"."""
    return (
        Q(mark__status__isnull=False)
        | Q(register__pk__isnull=False)
        | Q(**{f"{activity}__imported_on__gt": F(f"{activity}__due_on")})
        | Q(**{f"{activity}__imported_on__gt": TruncDate(f"{activity}__starts_at", tzinfo=_london())})
        | Q(
            **{
                f"{activity}__starts_at__isnull": True,
                f"{activity}__due_on__lte": today - timedelta(days=TASK_RECORD_DAYS),
            }
        )
    )


def _london() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def course_tally_queryset(*, course_ids: list[int], today: date) -> QuerySet:
    """One row per live participant of the courses: (participant, done, due, due_all, future) weights.

    ``due_all`` counts the required activities due by ``today`` that were not excused, ``due``
    those of them recorded (so ``due_all - due`` awaits its record), ``done`` those attended or
    completed, ``future`` the ones still to come (not excused).
    """
    activity = "course__activities"
    counted = Q(**{f"{activity}__required": True, f"{activity}__counts_towards_engagement": True}) & (
        Q(**{f"{activity}__group__isnull": True}) | Q(**{f"{activity}__group": F("group")})
    )
    due = Q(**{f"{activity}__starts_at__lt": _start_of_next_day(today)}) | Q(
        **{f"{activity}__due_on__lte": today}
    )
    not_excused = Q(mark__status__isnull=True) | ~Q(mark__status=Attendance.Status.EXCUSED)
    recorded = _recorded(activity, today=today)
    weight = f"{activity}__weight"
    decimal = DecimalField(max_digits=9, decimal_places=2)
    return (
        Participant.objects.filter(course_id__in=course_ids, status__in=Participant.LIVE_STATUSES)
        # Filtering before annotating restricts the join itself to the counted activities.
        .filter(counted)
        .annotate(
            mark=FilteredRelation(
                f"{activity}__attendances", condition=Q(**{f"{activity}__attendances__participant": F("pk")})
            ),
            # The register of the participant's group (at most one row: unique per activity and group).
            register=FilteredRelation(
                f"{activity}__registers",
                condition=Q(**{f"{activity}__registers__group": F("group")})
                | Q(**{f"{activity}__registers__group__isnull": True, "group__isnull": True}),
            ),
        )
        .order_by()
        .values("pk")
        .annotate(
            done=Sum(weight, filter=due & Q(mark__status__in=DONE), default=Value(0), output_field=decimal),
            due=Sum(weight, filter=due & recorded & not_excused, default=Value(0), output_field=decimal),
            due_all=Sum(weight, filter=due & not_excused, default=Value(0), output_field=decimal),
            future=Sum(weight, filter=~due & not_excused, default=Value(0), output_field=decimal),
        )
        .values_list("pk", "done", "due", "due_all", "future")
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
                f"INSERT INTO {table} (participant_id, done_weight, due_weight, awaiting_weight, percent,"  # noqa: S608 - table name from the model
                f" projected_percent, on_track, computed_at) SELECT {ARITHMETIC} FROM ({sql}) t WHERE true"
                " ON CONFLICT (participant_id) DO UPDATE SET done_weight = excluded.done_weight,"
                " due_weight = excluded.due_weight, awaiting_weight = excluded.awaiting_weight,"
                " percent = excluded.percent,"
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


def registers_taken(*, activity: Activity, participant_ids: set[int], by=None) -> None:
    """Record that the register of ``activity`` was taken for the groups of ``participant_ids``
    (called by ``services.register_save`` inside its transaction, with the activity locked)."""
    now = timezone.now()
    groups = set(Participant.objects.filter(pk__in=participant_ids).values_list("group_id", flat=True))
    for group_id in groups:
        Register.objects.update_or_create(
            activity=activity, group_id=group_id, defaults={"taken_at": now, "taken_by": by}
        )


def is_due(activity: Activity, *, today: date) -> bool:
    return bool(
        (activity.starts_at is not None and activity.starts_at < _start_of_next_day(today))
        or (activity.due_on is not None and activity.due_on <= today)
    )


def is_recorded(activity: Activity, *, mark: str | None, register_taken: bool, today: date) -> bool:
    """The same rule as ``_recorded`` (the tally's SQL), for one activity on a page."""
    if mark is not None or register_taken:
        return True
    if activity.imported_on is not None:
        if activity.due_on is not None and activity.imported_on > activity.due_on:
            return True
        if (
            activity.starts_at is not None
            and activity.imported_on > activity.starts_at.astimezone(_london()).date()
        ):
            return True
    return (
        activity.starts_at is None
        and activity.due_on is not None
        and activity.due_on <= today - timedelta(days=TASK_RECORD_DAYS)
    )


def activity_state(activity: Activity, *, mark: str | None, register_taken: bool, today: date) -> str:
    """Done, excused, upcoming, missed or awaiting record: what the tally makes of the activity."""
    if mark == Attendance.Status.EXCUSED:
        return State.EXCUSED
    if mark in DONE:
        return State.DONE
    if not is_due(activity, today=today):
        return State.UPCOMING
    if is_recorded(activity, mark=mark, register_taken=register_taken, today=today):
        return State.MISSED
    return State.AWAITING


def group_registers(*, activities, group_id: int | None) -> set[int]:
    """Ids of ``activities`` whose register has been taken for the group (None: no group)."""
    return set(
        Register.objects.filter(activity__in=activities, group_id=group_id).values_list(
            "activity_id", flat=True
        )
    )


def participant_activities(
    *, participant: Participant, today: date | None = None
) -> list[tuple[Activity, str | None, str]]:
    """The participant's activities in date order with their mark and state (for their own page)."""
    today = today or timezone.localdate()
    activities = list(
        Activity.objects.filter(course_id=participant.course_id)
        .filter(Q(group__isnull=True) | Q(group_id=participant.group_id))
        .order_by("starts_at", "due_on", "title")
    )
    marks = dict(Attendance.objects.filter(participant=participant).values_list("activity_id", "status"))
    taken = group_registers(activities=activities, group_id=participant.group_id)
    return [
        (
            activity,
            marks.get(activity.pk),
            activity_state(
                activity, mark=marks.get(activity.pk), register_taken=activity.pk in taken, today=today
            ),
        )
        for activity in activities
    ]


def state_label(mark: str | None, state: str) -> str:
    """The word staff see in a group's grid (and its CSV) for one participant and activity."""
    if state == State.DONE:
        return "Completed" if mark == Attendance.Status.COMPLETED else "Attended"
    return {
        State.MISSED: "Missed",
        State.EXCUSED: "Excused",
        State.AWAITING: "Awaiting record",
    }.get(state, "")


def awaiting_records(
    *, course_id: int, groups: list, today: date | None = None
) -> list[tuple[Activity, list]]:
    """Activities of the course due so far whose record has not come in for some of ``groups``
    (the groups staff see): (activity, [groups still awaiting its register or LMS import]).
    Two queries whatever the size of the course."""
    today = today or timezone.localdate()
    group_ids = [g.pk for g in groups]
    activities = [
        a
        for a in Activity.objects.filter(course_id=course_id, required=True, counts_towards_engagement=True)
        .filter(Q(group__isnull=True) | Q(group_id__in=group_ids))
        .order_by("starts_at", "due_on", "title")
        if is_due(a, today=today)
    ]
    taken = set(
        Register.objects.filter(activity__in=activities, group_id__in=group_ids).values_list(
            "activity_id", "group_id"
        )
    )
    awaiting = []
    for activity in activities:
        waiting = [
            g
            for g in groups
            if activity.group_id in (None, g.pk)
            and not is_recorded(activity, mark=None, register_taken=(activity.pk, g.pk) in taken, today=today)
        ]
        if waiting:
            awaiting.append((activity, waiting))
    return awaiting


def distribution(percents: list[Decimal | None], *, bins: int = 10) -> list[int]:
    """How many participants fall in each 10%-wide band (100% goes in the top band)."""
    counts = [0] * bins
    for percent in percents:
        if percent is None:
            continue
        index = min(int(percent // (100 // bins)), bins - 1)
        counts[index] += 1
    return counts
