"""The engagement reminders (registered by name, notifications/jobs.py): participants below the
engagement bar and their facilitators, weekly; participants behind on mentor check-ins.

Each takes ``today`` (so tests can drive it) and returns how many it sent. Every reminder goes
through ``notify`` with a key naming its occasion, so a job that runs twice, late, or at the same
time as itself sends nothing more.
"""

from __future__ import annotations

from datetime import date
from math import floor

from django.db.models import Count, Q
from django.utils.translation import ngettext

from notifications.jobs import register_job
from notifications.services import notify_once, site_url
from programmes.models import Group, Participant

from .models import EngagementTally


def _week(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


@register_job("engagement_at_risk")
def engagement_at_risk(today: date) -> int:
    """Weekly: participants below the bar, and each facilitator about their group's."""
    sent = 0
    occurrence = _week(today)
    at_risk = (
        EngagementTally.objects.filter(on_track=False, participant__status__in=Participant.LIVE_STATUSES)
        .select_related("participant__user", "participant__course__programme", "participant__group")
        .order_by("participant__group_id", "percent")
    )
    by_group: dict[int, list[EngagementTally]] = {}
    for tally in at_risk:
        participant = tally.participant
        sent += notify_once(
            kind="engagement_at_risk",
            recipient=participant.user.email,
            user=participant.user,
            about=participant,
            occurrence=occurrence,
            title="Your NPQ engagement is below 90%",
            template="engagement_at_risk",
            context={"participant": participant, "tally": tally},
            link=site_url("enrolment", participant.pk),
        )
        if participant.group_id:
            by_group.setdefault(participant.group_id, []).append(tally)
    for group in (
        Group.objects.filter(pk__in=by_group)
        .prefetch_related("facilitators")
        .select_related("course__programme")
    ):
        for facilitator in group.facilitators.all():
            sent += notify_once(
                kind="engagement_at_risk_group",
                recipient=facilitator.email,
                user=facilitator,
                about=group,
                occurrence=occurrence,
                title=ngettext(
                    "%(count)d participant in %(group)s is below 90%%",
                    "%(count)d participants in %(group)s are below 90%%",
                    len(by_group[group.pk]),
                )
                % {"count": len(by_group[group.pk]), "group": group.name},
                template="engagement_at_risk_group",
                context={"group": group, "tallies": by_group[group.pk]},
                link=site_url("admin:programmes_course_engagement", group.course_id),
            )
    return sent


@register_job("checkins_overdue")
def checkins_overdue(today: date) -> int:
    """Participants behind the pace of mentor check-ins for the time elapsed in their course."""
    sent = 0
    live = (
        Participant.objects.filter(
            status=Participant.Status.ACTIVE,
            course__delivery_start__lte=today,
            course__delivery_end__gt=today,
            course__programme__mentor_checkins__gt=0,
        )
        .select_related("user", "course__programme")
        .annotate(logged=Count("checkins", filter=Q(checkins__held_on__lte=today)))
    )
    for participant in live:
        course = participant.course
        elapsed = (today - course.delivery_start).days / max(
            (course.delivery_end - course.delivery_start).days, 1
        )
        expected = floor(course.programme.mentor_checkins * elapsed)
        if participant.logged >= expected:
            continue
        sent += notify_once(
            kind="checkins_overdue",
            recipient=participant.user.email,
            user=participant.user,
            about=participant,
            occurrence=f"expected-{expected}",
            title="Time for a check-in with your NPQ mentor",
            template="checkins_overdue",
            context={
                "participant": participant,
                "expected": expected,
                "logged": participant.logged,
                "required": course.programme.mentor_checkins,
            },
            link=site_url("checkin_new", participant.pk),
        )
    return sent
