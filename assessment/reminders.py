"""The assessment's scheduled jobs (registered by name, notifications/jobs.py): making a window's
entries when it opens, and the reminders before it opens, before it closes and before marking is due.

Each takes ``today`` (so tests can drive it) and returns how many it sent (or, for the entries,
made). Every reminder goes through ``notify`` with a key naming its occasion, so a job that runs
twice, late, or at the same time as itself sends nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import ngettext

from engagement.models import EngagementTally
from notifications.jobs import register_job
from notifications.services import notify_once, site_url
from programmes.models import Participant

from .models import AssessmentWindow, Entry, MarkingAssignment
from .services import window_open_entries


@register_job("assessment_opening")
def assessment_opening(today: date) -> int:
    """A week before a window opens: participants on track for it (90% or more) are told."""
    sent = 0
    for window in AssessmentWindow.objects.filter(
        opens_on__gt=today, opens_on__lte=today + timedelta(days=7)
    ).select_related("course__programme"):
        tallies = EngagementTally.objects.filter(
            participant__course_id=window.course_id,
            participant__status__in=Participant.LIVE_STATUSES,
            on_track=True,
            percent__isnull=False,
        ).select_related("participant__user")
        for tally in tallies:
            participant = tally.participant
            sent += notify_once(
                kind="assessment_opening",
                recipient=participant.user.email,
                user=participant.user,
                about=window,
                occurrence="7-days",
                title="Your NPQ assessment opens next week",
                template="assessment_opening",
                context={"window": window, "participant": participant},
                link=site_url("participant_assessment", participant.pk),
            )
    return sent


@register_job("assessment_closing")
def assessment_closing(today: date) -> int:
    """48 and 24 hours before a window closes: those with access who have not submitted."""
    sent = 0
    now = timezone.now()
    for window in AssessmentWindow.objects.filter(
        opens_on__lte=today, opens_on__gte=today - timedelta(days=8)
    ):
        left = window.closes_at - now
        if left <= timedelta(0) or left > timedelta(hours=48):
            continue
        occurrence = "24h" if left <= timedelta(hours=24) else "48h"
        entries = Entry.objects.filter(
            window=window,
            access__in=[Entry.Access.ENGAGEMENT, Entry.Access.GRANTED],
            submissions__isnull=True,
        ).select_related("participant__user", "window__course__programme")
        for entry in entries:
            participant = entry.participant
            sent += notify_once(
                kind="assessment_closing",
                recipient=participant.user.email,
                user=participant.user,
                about=window,
                occurrence=occurrence,
                title=f"Your NPQ assessment closes in {occurrence.replace('h', ' hours')}",
                template="assessment_closing",
                context={"window": window, "participant": participant},
                link=site_url("participant_assessment", participant.pk),
            )
    return sent


@register_job("marking_due")
def marking_due(today: date) -> int:
    """Markers with scripts still to mark, 14 and 3 days before the marking deadline."""
    sent = 0
    pending = MarkingAssignment.objects.filter(
        result="", marker__isnull=False, entry__window__results_released_at__isnull=True
    ).select_related("marker", "entry__window__course__programme")
    by_marker: dict[tuple[int, int], list] = {}
    for assignment in pending:
        by_marker.setdefault((assignment.marker_id, assignment.entry.window_id), []).append(assignment)
    for assignments in by_marker.values():
        window, marker = assignments[0].entry.window, assignments[0].marker
        days_left = (window.marking_due_on - today).days
        due = [d for d in (14, 3) if days_left <= d]
        if not due or days_left < 0:
            continue
        sent += notify_once(
            kind="marking_due",
            recipient=marker.email,
            user=marker,
            about=window,
            occurrence=f"{due[-1]}-days",
            title=ngettext(
                "%(count)d NPQ script to mark by %(day)s",
                "%(count)d NPQ scripts to mark by %(day)s",
                len(assignments),
            )
            % {"count": len(assignments), "day": f"{window.marking_due_on:%-d %B %Y}"},
            template="marking_due",
            context={"window": window, "count": len(assignments)},
            link=site_url("marking_list"),
        )
    return sent


@register_job("assessment_entries")
def assessment_entries(today: date) -> int:
    """When a window opens, make its entries (engagement as it stands that day)."""
    made = 0
    for window in AssessmentWindow.objects.filter(
        opens_on__lte=today, opens_on__gte=today - timedelta(days=8)
    ):
        made += window_open_entries(window=window)
    return made
