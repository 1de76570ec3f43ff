"""Engagement: the weighted share of required activities due so far that a participant completed.

DfE fixes the bar at 90% to reach the summative assessment. Excused absences (exceptional
circumstances) are left out of both sides. The tally of a course is one aggregate query over
participants x activities x their marks, and one upsert per batch of participants: never a query
per participant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, FilteredRelation, Q, Sum
from django.utils import timezone

from .models import Activity, Attendance, EngagementTally, Participant

ENGAGEMENT_BAR = Decimal("90")  # fixed by DfE
DONE = (Attendance.Status.ATTENDED, Attendance.Status.COMPLETED)
UPSERT_BATCH = 5000
HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Tally:
    done_weight: Decimal
    due_weight: Decimal
    future_weight: Decimal

    @property
    def percent(self) -> Decimal | None:
        """None when nothing is due yet ("not started"): never a division by zero."""
        if not self.due_weight:
            return None
        return (self.done_weight * HUNDRED / self.due_weight).quantize(TWO_PLACES)

    @property
    def projected_percent(self) -> Decimal | None:
        basis = self.due_weight + self.future_weight
        if not basis:
            return None
        return ((self.done_weight + self.future_weight) * HUNDRED / basis).quantize(TWO_PLACES)

    @property
    def on_track(self) -> bool:
        return self.percent is None or self.percent >= ENGAGEMENT_BAR


def _start_of_next_day(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def course_tally_rows(*, course_id: int, today: date) -> Iterator[tuple[int, Tally]]:
    """(participant id, Tally) for each live participant of the course, from one aggregate query."""
    activity = "course__activities"
    counted = Q(**{f"{activity}__required": True, f"{activity}__counts_towards_engagement": True}) & (
        Q(**{f"{activity}__group__isnull": True}) | Q(**{f"{activity}__group": F("group")})
    )
    due = Q(**{f"{activity}__starts_at__lt": _start_of_next_day(today)}) | Q(
        **{f"{activity}__due_on__lte": today}
    )
    not_excused = Q(mark__status__isnull=True) | ~Q(mark__status=Attendance.Status.EXCUSED)
    weight = f"{activity}__weight"
    rows = (
        Participant.objects.filter(course_id=course_id, status__in=Participant.LIVE_STATUSES)
        .annotate(
            mark=FilteredRelation(
                f"{activity}__attendances", condition=Q(**{f"{activity}__attendances__participant": F("pk")})
            )
        )
        .order_by()
        .values("pk")
        .annotate(
            done=Sum(weight, filter=counted & due & Q(mark__status__in=DONE), default=Decimal(0)),
            due=Sum(weight, filter=counted & due & not_excused, default=Decimal(0)),
            future=Sum(weight, filter=counted & ~due & not_excused, default=Decimal(0)),
        )
        .values_list("pk", "done", "due", "future")
    )
    for pk, done, due_weight, future in rows.iterator(chunk_size=UPSERT_BATCH):
        yield pk, Tally(Decimal(done), Decimal(due_weight), Decimal(future))


def tally_course(*, course_id: int, today: date | None = None) -> int:
    """Recompute and store the tallies of a course's live participants. Idempotent; returns how many."""
    today = today or timezone.localdate()
    now = timezone.now()
    stored = 0
    batch: list[EngagementTally] = []
    with transaction.atomic():
        _serialise_per_course(course_id)
        for participant_id, tally in course_tally_rows(course_id=course_id, today=today):
            batch.append(
                EngagementTally(
                    participant_id=participant_id,
                    percent=tally.percent,
                    done_weight=tally.done_weight,
                    due_weight=tally.due_weight,
                    projected_percent=tally.projected_percent,
                    on_track=tally.on_track,
                    computed_at=now,
                )
            )
            if len(batch) >= UPSERT_BATCH:
                stored += _upsert(batch)
                batch = []
        stored += _upsert(batch)
        # Withdrawn (or completed) participants are no longer tallied.
        EngagementTally.objects.filter(participant__course_id=course_id).exclude(
            participant__status__in=Participant.LIVE_STATUSES
        ).delete()
    return stored


TALLY_LOCK_SPACE = 6001  # advisory lock namespace of engagement tallies


def _serialise_per_course(course_id: int) -> None:
    """Two runs for one course at once take turns (PostgreSQL); each then reads committed marks."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TALLY_LOCK_SPACE, course_id])


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


def _upsert(batch: list[EngagementTally]) -> int:
    if batch:
        EngagementTally.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["participant"],
            update_fields=[
                "percent",
                "done_weight",
                "due_weight",
                "projected_percent",
                "on_track",
                "computed_at",
            ],
        )
    return len(batch)


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
