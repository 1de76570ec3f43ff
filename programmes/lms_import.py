"""Import an LMS completion export: participant email or TRN, activity code, completed at.

Every activity the file includes is stamped with the day of the import (``imported_on``): from
then on, once it is past, those with no completion for it have missed it rather than awaiting
its record.

Unknown participants or activities are reported by line; the rest load in one transaction per
file. Only participants and activities the importing staff member may see are matched.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from funding.imports import MalformedFile, decode

from .engagement import schedule_tally
from .models import Activity, Attendance, Participant

COLUMNS = {"participant", "activity_code", "completed_at"}


@dataclass
class LmsOutcome:
    rows: int = 0
    loaded: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def _completed_at(value: str) -> datetime:
    value = value.strip()
    for pattern in (
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
    ):
        try:
            moment = datetime.strptime(value, pattern)  # noqa: DTZ007 - made aware below
        except ValueError:
            continue
        return moment if moment.tzinfo else timezone.make_aware(moment)
    raise ValueError(f"completed_at {value!r} is not a date and time like 2025-11-05 16:30")


@transaction.atomic
def import_lms_completions(
    raw: bytes, *, participants: QuerySet[Participant], activities: QuerySet[Activity], by=None
) -> LmsOutcome:
    """Mark activities completed from an LMS export (one transaction for the whole file)."""
    reader = csv.DictReader(io.StringIO(decode(raw), newline=""))
    header = {name.strip().lower() for name in reader.fieldnames or []}
    missing = sorted(COLUMNS - header)
    if missing:
        raise MalformedFile(
            "The file needs the columns participant (email or TRN), activity_code and completed_at; missing: "
            + ", ".join(missing)
            + ". Nothing was loaded."
        )
    live = participants.filter(status__in=Participant.LIVE_STATUSES)
    outcome = LmsOutcome()
    touched_courses: set[int] = set()
    included: set[int] = set()  # activities the file speaks of: their record has come in
    for raw_row in reader:
        row = {key.strip().lower(): (value or "").strip() for key, value in raw_row.items() if key}
        line = reader.line_num
        outcome.rows += 1
        who, code = row["participant"], row["activity_code"]
        try:
            completed_at = _completed_at(row["completed_at"])
        except ValueError as exc:
            outcome.problems.append((line, str(exc)))
            continue
        matches = (
            live.filter(Q(user__email__iexact=who) | Q(trn=who.replace(" ", ""))) if who else live.none()
        )
        enrolments = list(matches.select_related("course"))
        if not enrolments:
            outcome.problems.append((line, f"no participant with email or TRN {who!r}"))
            continue
        activity = (
            activities.filter(code=code, course__in=[e.course_id for e in enrolments])
            .filter(Q(group__isnull=True) | Q(group_id__in=[e.group_id for e in enrolments]))
            .first()
        )
        if activity is None:
            outcome.problems.append((line, f"no activity with code {code!r} on {who}'s course"))
            continue
        participant = next(e for e in enrolments if e.course_id == activity.course_id)
        included.add(activity.pk)
        touched_courses.add(activity.course_id)
        mark, created = Attendance.objects.get_or_create(
            participant=participant,
            activity=activity,
            defaults={"status": Attendance.Status.COMPLETED, "recorded_by": by, "completed_at": completed_at},
        )
        if not created and mark.status in (Attendance.Status.COMPLETED, Attendance.Status.ATTENDED):
            outcome.unchanged += 1
            continue
        if not created:
            mark.status, mark.recorded_by, mark.completed_at = Attendance.Status.COMPLETED, by, completed_at
            mark._history_user = by
            mark.save()
        outcome.loaded += 1
    # Those without a completion in the export have missed an activity the file included once
    # it is past (programmes.engagement: "recorded").
    Activity.objects.filter(pk__in=included).update(imported_on=timezone.localdate())
    for course_id in touched_courses:
        schedule_tally(course_id=course_id)
    return outcome
