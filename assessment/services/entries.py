"""Windows and entries: the course's window, each participant's entry (access read from
engagement when the window opens), access granted by staff and extensions."""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import EngagementTally
from programmes.models import Course, Participant

from ..models import AssessmentWindow, Entry


class AssessmentError(ValueError):
    """A refusal with a message for the person who asked (shown next to the field)."""


def window_create(*, course: Course, opens_on: date | None = None, **fields) -> AssessmentWindow:
    """The course's window, opening by default when delivery ends."""
    return AssessmentWindow.objects.create(course=course, opens_on=opens_on or course.delivery_end, **fields)


# --- Entry ----------------------------------------------------------------------------------------


def entry_for(*, participant: Participant, now: datetime | None = None) -> Entry | None:
    """The participant's entry once the window has opened (None before). Engagement is read when
    the entry is first made: at the opening job, or the participant's first visit if earlier."""
    now = now or timezone.now()
    window = (
        AssessmentWindow.objects.filter(course_id=participant.course_id)
        .select_related("course__programme")
        .first()
    )
    if window is None or now < window.opens_at:
        return None
    entry = Entry.objects.filter(window=window, participant=participant).first()
    if entry is not None:
        return entry
    tally = EngagementTally.objects.filter(participant=participant).first()
    percent = tally.percent if tally else None
    # on_track compares the exact ratio with the bar; the stored percent is rounded for display.
    eligible = participant.status in Participant.LIVE_STATUSES and percent is not None and tally.on_track
    try:
        with transaction.atomic():
            return Entry.objects.create(
                window=window,
                participant=participant,
                engagement_at_opening=percent,
                access=Entry.Access.ENGAGEMENT if eligible else Entry.Access.NONE,
            )
    except IntegrityError:  # made at the same moment by the opening job
        return Entry.objects.get(window=window, participant=participant)


def window_open_entries(*, window: AssessmentWindow, now: datetime | None = None) -> int:
    """At opening: an entry for every live participant of the course, engagement as it stands."""
    participants = Participant.objects.filter(
        course_id=window.course_id, status__in=Participant.LIVE_STATUSES
    )
    return sum(1 for p in participants if entry_for(participant=p, now=now) is not None)


@transaction.atomic
def entry_grant_access(*, entry: Entry, reason: str, by: User) -> Entry:
    if not reason.strip():
        raise AssessmentError("Give the reason for granting access (the exceptional circumstances).")
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    entry.access, entry.access_reason, entry.access_granted_by = Entry.Access.GRANTED, reason.strip(), by
    entry.save(update_fields=["access", "access_reason", "access_granted_by"])
    return entry


@transaction.atomic
def entry_extend(
    *, entry: Entry, until: datetime, reason: str, by: User, new_headteacher: bool = False
) -> Entry:
    """An individual extension, or the NPQH extension for teachers new to headship (up to 6 months)."""
    from programmes.services import add_months

    entry = Entry.objects.select_for_update().select_related("window__course__programme").get(pk=entry.pk)
    window, programme = entry.window, entry.window.course.programme
    if not reason.strip():
        raise AssessmentError("Give the reason for the extension.")
    if until <= window.closes_at:
        raise AssessmentError("An extension must end after the window closes.")
    if new_headteacher:
        if not programme.assessment_extension_months:
            raise AssessmentError(f"{programme.name} has no extension for teachers new to headship.")
        latest = add_months(window.closes_at.date(), programme.assessment_extension_months)
    else:
        latest = window.marking_due_on
    if until.astimezone(window.closes_at.tzinfo).date() > latest:
        raise AssessmentError(f"The extension can run to {latest:%-d %B %Y} at the latest.")
    entry.extended_until, entry.extension_reason = until, reason.strip()
    entry.save(update_fields=["extended_until", "extension_reason"])
    return entry
