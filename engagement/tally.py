"""Engagement: the weighted share of required activities due and recorded so far that a
participant completed.

DfE fixes the bar at 90% to reach the summative assessment. Excused absences (exceptional
circumstances) are left out of both sides, and so is an activity whose record has not come in
yet ("awaiting record": its register not taken, its LMS export not imported). The tally is one
SQL statement driven by the marks (decisions.md, 32): the weights each group's participants could
earn are summed once per group (their course's activities and the group's own, with the group's
registers), then one pass over the attendance marks adjusts each participant's totals (what they
did, what they were excused from, what their mark records), inside an INSERT ... ON CONFLICT
that stores it. Never a query per participant, and never participants x activities.

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
from django.db.models import BooleanField, Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Round, TruncDate
from django.utils import timezone

from programmes.models import Participant

from .models import Activity, Attendance, EngagementTally, Register

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


def start_of_next_day(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


# From the weights (in hundredths, so that sums are exact on every database) to what is stored:
# percent = done / due (due: recorded and not excused), NULL when nothing is counted yet (never a
# division by zero); the projection as if everything still possible is completed: the activities
# to come and those awaiting their record (missed ones are not); on track at or above the bar,
# judged on the exact ratio (89.997% is not 90%, though it shows as 90.00), or when nothing is
# counted yet. (100.0 keeps SQLite from dividing whole numbers as integers.) Computed once per
# participant over the totals, not inside the aggregate.
ARITHMETIC = f"""
    t.pk, t.course_id, t.done / 100.0, t.due / 100.0, (t.due_all - t.due) / 100.0,
    CASE WHEN t.due > 0 THEN ROUND(t.done * 100.0 / t.due, 2) END,
    CASE WHEN t.due_all + t.future > 0
         THEN ROUND((t.done + t.due_all - t.due + t.future) * 100.0 / (t.due_all + t.future), 2) END,
    t.due = 0 OR t.done * 100 >= {int(ENGAGEMENT_BAR)} * t.due,
    %s
"""
# The aggregate per participant is a hash table of about 20 MB at 100,000 participants: with
# PostgreSQL's default 4 MB it (and the sorts around it) would be written to disk. Only for the
# tally's statement, and put back after it.
TALLY_WORK_MEM = "64MB"


def _london() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _flag(condition: Q) -> Case:
    """A condition as a true/false column (never NULL: a missing date makes it false)."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def due_flag(today: date) -> Case:
    """An activity is due by ``today`` (``is_due``), as a true/false column."""
    return _flag(Q(starts_at__lt=start_of_next_day(today)) | Q(due_on__lte=today))


def recorded_alone_flag(today: date) -> Case:
    """An activity's record has come in for everyone, whatever their marks and registers (an LMS
    import after its date, or a task ``TASK_RECORD_DAYS`` days past due), as a true/false
    column: ``is_recorded`` with no mark and no register, in SQL."""
    return _flag(
        Q(imported_on__gt=F("due_on"))
        | Q(imported_on__gt=TruncDate("starts_at", tzinfo=_london()))
        | Q(starts_at__isnull=True, due_on__lte=today - timedelta(days=TASK_RECORD_DAYS))
    )


def counted_activities(*, course_ids: list[int], today: date) -> QuerySet:
    """The required activities of the courses that count towards engagement, one row each: pk,
    course_id, group_id, ``w`` (the weight in hundredths), ``is_due`` (by ``today``) and
    ``recorded_alone``: its record has come in for everyone, whatever their marks and registers
    (an LMS import after its date, or a task ``TASK_RECORD_DAYS`` days past due)."""
    return (
        Activity.objects.filter(course_id__in=course_ids, required=True, counts_towards_engagement=True)
        .order_by()
        .annotate(
            w=Cast(Round(F("weight") * 100), IntegerField()),
            is_due=due_flag(today),
            recorded_alone=recorded_alone_flag(today),
        )
        .values("pk", "course_id", "group_id", "w", "is_due", "recorded_alone")
    )


def tally_statement(*, course_ids: list[int], today: date) -> tuple[str, list]:
    """A WITH ... SELECT of each live participant's totals (pk, course_id, done, due, due_all, future;
    weights in hundredths), driven by the marks:

    - ``base``: per (course, group) of live participants, the weights due, to come, and due but
      not recorded for the group (no register for it, not ``recorded_alone``): the course's own
      activities joined by course, the group's by group (never every activity of a course for
      every group, filtered afterwards);
    - ``marks``: one pass over the attendance marks, each counted where its activity is one of
      its participant's: done, excused (out of both sides), and marks on activities their group
      has no record of (the mark is their record);
    - per participant: due_all = base's due - excused, awaiting = base's unrecorded - marked,
      due = due_all - awaiting. A participant whose group has no counted activity has no row.
    """
    people, people_params = (
        Participant.objects.filter(course_id__in=course_ids, status__in=Participant.LIVE_STATUSES)
        .order_by()
        .values("pk", "course_id", "group_id")
        .query.sql_with_params()
    )
    counted, counted_params = counted_activities(course_ids=course_ids, today=today).query.sql_with_params()
    qn = connection.ops.quote_name
    registers, marks = qn(Register._meta.db_table), qn(Attendance._meta.db_table)
    done = ", ".join(f"'{status}'" for status in DONE)
    excused = f"'{Attendance.Status.EXCUSED}'"
    own = "a.course_id = p.course_id AND (a.group_id IS NULL OR a.group_id = p.group_id)"
    sql = f"""WITH g AS (SELECT DISTINCT course_id, group_id FROM ({people}) p),
base AS (
  SELECT ga.course_id, ga.group_id,
         COALESCE(SUM(ga.w) FILTER (WHERE ga.is_due), 0) AS due_all,
         COALESCE(SUM(ga.w) FILTER (WHERE NOT ga.is_due), 0) AS future,
         COALESCE(SUM(ga.w) FILTER (WHERE ga.is_due AND NOT ga.recorded_alone AND r.id IS NULL), 0)
           AS unrecorded
    FROM (SELECT g.course_id, g.group_id, a.pk, a.w, a.is_due, a.recorded_alone
            FROM g JOIN ({counted}) a ON a.course_id = g.course_id AND a.group_id IS NULL
          UNION ALL
          SELECT g.course_id, g.group_id, a.pk, a.w, a.is_due, a.recorded_alone
            FROM g JOIN ({counted}) a ON a.group_id = g.group_id AND a.course_id = g.course_id) ga
    LEFT JOIN {registers} r ON r.activity_id = ga.pk AND COALESCE(r.group_id, 0) = COALESCE(ga.group_id, 0)
   GROUP BY ga.course_id, ga.group_id
),
marks AS (
  SELECT m.participant_id,
         SUM(a.w) FILTER (WHERE {own} AND a.is_due AND m.status IN ({done})) AS done,
         SUM(a.w) FILTER (WHERE {own} AND a.is_due AND m.status = {excused}) AS excused_due,
         SUM(a.w) FILTER (WHERE {own} AND NOT a.is_due AND m.status = {excused}) AS excused_future,
         SUM(a.w) FILTER (WHERE {own} AND a.is_due AND NOT a.recorded_alone AND r.id IS NULL)
           AS marked_unrecorded
    FROM {marks} m
    JOIN ({people}) p ON p.pk = m.participant_id
    JOIN ({counted}) a ON a.pk = m.activity_id
    LEFT JOIN {registers} r ON r.activity_id = m.activity_id AND COALESCE(r.group_id, 0) = COALESCE(p.group_id, 0)
   GROUP BY m.participant_id
)
SELECT p.pk, p.course_id, COALESCE(k.done, 0) AS done,
       b.due_all - COALESCE(k.excused_due, 0) - (b.unrecorded - COALESCE(k.marked_unrecorded, 0)) AS due,
       b.due_all - COALESCE(k.excused_due, 0) AS due_all,
       b.future - COALESCE(k.excused_future, 0) AS future
  FROM ({people}) p
  JOIN base b ON b.course_id = p.course_id AND COALESCE(b.group_id, 0) = COALESCE(p.group_id, 0)
  LEFT JOIN marks k ON k.participant_id = p.pk"""  # noqa: S608 - names from the models; values are parameters
    # The subqueries' parameters in the order they appear above.
    order = (people_params, counted_params, counted_params, people_params, counted_params, people_params)
    return sql, [param for params in order for param in params]


def tally_course(*, course_id: int, today: date | None = None) -> int:
    """Recompute and store the tallies of one course (after a register or an import)."""
    return tally_courses(course_ids=[course_id], today=today)


def tally_courses(*, course_ids: list[int], today: date | None = None) -> int:
    """Recompute and store the tallies of the courses' live participants. Idempotent; returns how many.

    One INSERT ... SELECT ... FROM (WITH ... SELECT) ON CONFLICT statement (``tally_statement``), so no row
    travels to Python and back; the nightly job passes every course at once.
    """
    course_ids = sorted(set(course_ids))
    if not course_ids:
        return 0
    today = today or timezone.localdate()
    now = timezone.now()
    totals, params = tally_statement(course_ids=course_ids, today=today)
    table = EngagementTally._meta.db_table
    with transaction.atomic():
        work_mem = _serialise_per_course(course_ids, work_mem=TALLY_WORK_MEM)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (participant_id, course_id, done_weight, due_weight, awaiting_weight,"  # noqa: S608 - table name from the model
                f" percent, projected_percent, on_track, computed_at) SELECT {ARITHMETIC}"
                f" FROM ({totals}) t WHERE true"
                " ON CONFLICT (participant_id) DO UPDATE SET course_id = excluded.course_id,"
                " done_weight = excluded.done_weight,"
                " due_weight = excluded.due_weight, awaiting_weight = excluded.awaiting_weight,"
                " percent = excluded.percent,"
                " projected_percent = excluded.projected_percent, on_track = excluded.on_track,"
                " computed_at = excluded.computed_at",
                [connection.ops.adapt_datetimefield_value(now), *params],  # in placeholder order
            )
            stored = cursor.rowcount
            if work_mem is not None:  # as it was, for whatever else this transaction does
                cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        # Tallies this run did not write are stale: withdrawn or completed participants, or
        # participants with no counted activities left (shown as "not started").
        EngagementTally.objects.filter(course_id__in=course_ids).exclude(computed_at=now).delete()
    return stored


TALLY_LOCK_SPACE = 6001  # advisory lock namespace of engagement tallies


def _serialise_per_course(course_ids: list[int], *, work_mem: str) -> str | None:
    """Two runs for a course at once take turns (PostgreSQL); each then reads committed marks.
    Locks are taken in course order so that overlapping runs cannot deadlock. In the same
    statement, ``work_mem`` is set for the rest of the transaction; returns what it was (None
    elsewhere than PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, id)), current_setting('work_mem'),"
            " set_config('work_mem', %s, true) FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) ids",
            [TALLY_LOCK_SPACE, work_mem, course_ids],
        )
        return cursor.fetchone()[1]


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
        (activity.starts_at is not None and activity.starts_at < start_of_next_day(today))
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


def distribution(percents: list[Decimal | None], *, bins: int = 10) -> list[int]:
    """How many participants fall in each 10%-wide band (100% goes in the top band)."""
    counts = [0] * bins
    for percent in percents:
        if percent is None:
            continue
        index = min(int(percent // (100 // bins)), bins - 1)
        counts[index] += 1
    return counts
