"""The reminder jobs. Each takes ``today`` (so tests can drive it) and returns how many it sent.

Every reminder goes through ``notify`` with a key naming its occasion, so a job that runs twice,
late, or at the same time as itself sends nothing more.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from math import floor
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from applications.models import Application, Endorsement
from applications.services import transition
from engagement.models import EngagementTally
from programmes.models import Group, Participant

from .services import notify

LONDON = ZoneInfo("Europe/London")
CHASE_DAYS = (3, 7)


def _notify_once(**kwargs) -> int:
    """1 if this reminder is new (recorded now, sent after commit), 0 if it was sent before."""
    with transaction.atomic():
        return 1 if notify(**kwargs) else 0


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def _url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def endorsement_chasers(today: date) -> int:
    """Remind the endorser 3 and 7 calendar days after the request was sent (only the latest due)."""
    sent = 0
    waiting = Endorsement.objects.filter(
        used_at__isnull=True,
        replaced_at__isnull=True,
        kind=Endorsement.Kind.APPLICATION,
        application__status=Application.Status.AWAITING_ENDORSEMENT,
        sent_at__lt=_start_of(today - timedelta(days=CHASE_DAYS[0] - 1)),
    ).select_related("application__user", "application__course__programme", "application__cohort__hub")
    for endorsement in waiting:
        age = (today - timezone.localtime(endorsement.sent_at, LONDON).date()).days
        due = [days for days in CHASE_DAYS if age >= days]
        if not due or timezone.now() >= endorsement.expires_at:
            continue
        days = due[-1]
        application = endorsement.application
        sent += _notify_once(
            kind="endorsement_chaser",
            recipient=endorsement.endorser_email,
            about=endorsement,
            occurrence=f"day-{days}",
            title=f"Reminder: please endorse {application.full_name}'s NPQ application",
            template="endorsement_chaser",
            context={
                "endorsement": endorsement,
                "application": application,
                "days": days,
                "expires_on": timezone.localtime(endorsement.expires_at, LONDON).date(),
            },
            link=_url("home"),
        )
    return sent


def endorsements_expire(today: date) -> int:
    """Applications not endorsed within the link's life expire; the applicant is told."""
    sent = 0
    stale = Endorsement.objects.filter(
        used_at__isnull=True,
        replaced_at__isnull=True,  # asked again: the newer request's link counts
        kind=Endorsement.Kind.APPLICATION,
        expires_at__lte=timezone.now(),
        application__status=Application.Status.AWAITING_ENDORSEMENT,
    ).select_related("application__user", "application__course__programme")
    for endorsement in stale:
        with transaction.atomic():
            application = Application.objects.select_for_update(of=("self",)).get(
                pk=endorsement.application_id
            )
            if application.status != Application.Status.AWAITING_ENDORSEMENT:
                continue
            transition(
                application,
                Application.Status.REGISTRATION_EXPIRED,
                by=None,
                note=f"Not endorsed within {settings.ENDORSEMENT_LINK_DAYS} days",
            )
            if notify(
                kind="application_expired",
                recipient=application.user.email,
                user=application.user,
                about=application,
                occurrence="endorsement",
                title="Your NPQ application has expired",
                template="application_expired",
                context={"application": application, "endorsement": endorsement},
                link=_url("application_detail", application.pk),
            ):
                sent += 1
    return sent


def registration_deadline(today: date) -> int:
    """Day 4 of the 5 days to finish the form: remind the applicant."""
    sent = 0
    days = settings.APPLICATION_COMPLETION_DAYS
    drafts = Application.objects.filter(
        # Started on day 1, so day 4 of 5 is three calendar days later.
        status=Application.Status.DRAFT,
        started_at__lt=_start_of(today - timedelta(days=days - 3)),
    ).select_related("user", "cohort__hub")
    for application in drafts:
        deadline = application.started_at + timedelta(days=days)
        if timezone.now() >= deadline:
            continue
        sent += _notify_once(
            kind="registration_deadline",
            recipient=application.user.email,
            user=application.user,
            about=application,
            occurrence=f"day-{days - 1}",
            title="Finish your NPQ application",
            template="registration_deadline",
            context={"application": application, "deadline": timezone.localtime(deadline, LONDON)},
            link=_url("application_check", application.pk),
        )
    return sent


def _week(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


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
        sent += _notify_once(
            kind="engagement_at_risk",
            recipient=participant.user.email,
            user=participant.user,
            about=participant,
            occurrence=occurrence,
            title="Your NPQ engagement is below 90%",
            template="engagement_at_risk",
            context={"participant": participant, "tally": tally},
            link=_url("enrolment", participant.pk),
        )
        if participant.group_id:
            by_group.setdefault(participant.group_id, []).append(tally)
    for group in (
        Group.objects.filter(pk__in=by_group)
        .prefetch_related("facilitators")
        .select_related("course__programme")
    ):
        for facilitator in group.facilitators.all():
            sent += _notify_once(
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
                link=_url("admin:programmes_course_engagement", group.course_id),
            )
    return sent


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
        sent += _notify_once(
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
            link=_url("checkin_new", participant.pk),
        )
    return sent


def assessment_opening(today: date) -> int:
    """A week before a window opens: participants on track for it (90% or more) are told."""
    from assessment.models import AssessmentWindow

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
            sent += _notify_once(
                kind="assessment_opening",
                recipient=participant.user.email,
                user=participant.user,
                about=window,
                occurrence="7-days",
                title="Your NPQ assessment opens next week",
                template="assessment_opening",
                context={"window": window, "participant": participant},
                link=_url("participant_assessment", participant.pk),
            )
    return sent


def assessment_closing(today: date) -> int:
    """48 and 24 hours before a window closes: those with access who have not submitted."""
    from assessment.models import AssessmentWindow, Entry

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
            sent += _notify_once(
                kind="assessment_closing",
                recipient=participant.user.email,
                user=participant.user,
                about=window,
                occurrence=occurrence,
                title=f"Your NPQ assessment closes in {occurrence.replace('h', ' hours')}",
                template="assessment_closing",
                context={"window": window, "participant": participant},
                link=_url("participant_assessment", participant.pk),
            )
    return sent


def marking_due(today: date) -> int:
    """Markers with scripts still to mark, 14 and 3 days before the marking deadline."""
    from assessment.models import MarkingAssignment

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
        sent += _notify_once(
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
            link=_url("marking_list"),
        )
    return sent


def assessment_entries(today: date) -> int:
    """When a window opens, make its entries (engagement as it stands that day)."""
    from assessment.models import AssessmentWindow
    from assessment.services import window_open_entries

    made = 0
    for window in AssessmentWindow.objects.filter(
        opens_on__lte=today, opens_on__gte=today - timedelta(days=8)
    ):
        made += window_open_entries(window=window)
    return made


def resend_stuck(today: date) -> int:
    """Every minute: the outbox sweeper (services.notifications_sweep); also marks job runs whose
    worker died as not finished. Its own quiet runs are kept for two days (the jobs page and
    /healthz need only the latest); runs that did something, or failed, are kept like any job's."""
    from .models import JobRun
    from .services import job_runs_close_abandoned, notifications_sweep

    JobRun.objects.filter(
        job="resend_stuck", sent=0, error="", finished_at__lt=timezone.now() - timedelta(days=2)
    ).delete()
    job_runs_close_abandoned()
    return notifications_sweep()


def declaration_reminders(today: date) -> int:
    """Declarations ready before a milestone (14 and 3 days) and declarations DfE refused (dfe/reminders.py)."""
    from dfe.reminders import declaration_reminders as remind

    return remind(today)


JOBS = {
    "endorsement_chasers": endorsement_chasers,
    "endorsements_expire": endorsements_expire,
    "registration_deadline": registration_deadline,
    "engagement_at_risk": engagement_at_risk,
    "checkins_overdue": checkins_overdue,
    "resend_stuck": resend_stuck,
    "assessment_entries": assessment_entries,
    "assessment_opening": assessment_opening,
    "assessment_closing": assessment_closing,
    "marking_due": marking_due,
    "declaration_reminders": declaration_reminders,
}
