"""The applications' scheduled jobs (registered by name, notifications/jobs.py): chasing an
endorser, expiring applications not endorsed in time, and the applicant's deadline to finish.

Each takes ``today`` (so tests can drive it) and returns how many it sent. Every reminder goes
through ``notify`` with a key naming its occasion, so a job that runs twice, late, or at the same
time as itself sends nothing more.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.jobs import register_job
from notifications.services import notify, notify_once, site_url

from .models import Application, Endorsement
from .services import transition

LONDON = ZoneInfo("Europe/London")
CHASE_DAYS = (3, 7)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


@register_job("endorsement_chasers")
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
        sent += notify_once(
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
            link=site_url("home"),
        )
    return sent


@register_job("endorsements_expire")
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
                link=site_url("application_detail", application.pk),
            ):
                sent += 1
    return sent


@register_job("registration_deadline")
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
        sent += notify_once(
            kind="registration_deadline",
            recipient=application.user.email,
            user=application.user,
            about=application,
            occurrence=f"day-{days - 1}",
            title="Finish your NPQ application",
            template="registration_deadline",
            context={"application": application, "deadline": timezone.localtime(deadline, LONDON)},
            link=site_url("application_check", application.pk),
        )
    return sent
