"""Reads for applicants: open cohorts, their applications and each one's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from allauth.account.models import EmailAddress
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from programmes.models import Cohort, Course, Participant

from .models import Application, Endorsement

NEXT_STEPS = {
    Application.Status.DRAFT: "Finish your application. It is saved as you go.",
    Application.Status.SUBMITTED: "We are sending your application to your headteacher or line manager.",
    Application.Status.AWAITING_ENDORSEMENT: "We have emailed your headteacher or line manager. Once they endorse your application, your hub decides on your place.",
    Application.Status.ENDORSED: "Your hub is deciding on your place. We will email you.",
    Application.Status.ENDORSEMENT_DECLINED: "Your application was not endorsed, so it cannot go further. Talk to your headteacher or line manager.",
    Application.Status.ACCEPTED: "You have a place. Your hub will send you the dates of your first sessions.",
    Application.Status.WAITLISTED: "You are on the waiting list. If a place becomes free, it is offered to the first on the list.",
    Application.Status.REJECTED: "Your hub did not accept this application.",
    Application.Status.WITHDRAWN: "You withdrew this application.",
    Application.Status.REGISTRATION_EXPIRED: "The application was not finished in time. You can start a new one while registration is open.",
}


# How an application's status reads after "it" or "that", in messages such as "An application
# that was not endorsed cannot become ..." (the labels are names for lists, not phrases).
STATUS_PHRASES = {
    Application.Status.DRAFT: "has not been submitted",
    Application.Status.SUBMITTED: "has just been submitted",
    Application.Status.AWAITING_ENDORSEMENT: "is waiting for endorsement",
    Application.Status.ENDORSED: "has been endorsed",
    Application.Status.ENDORSEMENT_DECLINED: "was not endorsed",
    Application.Status.ACCEPTED: "has been accepted",
    Application.Status.WAITLISTED: "is on the waiting list",
    Application.Status.REJECTED: "was not accepted",
    Application.Status.WITHDRAWN: "has been withdrawn",
    Application.Status.REGISTRATION_EXPIRED: "expired before it was finished",
}


def status_phrase(status: str) -> str:
    return STATUS_PHRASES[Application.Status(status)]


def open_cohorts(*, on: date) -> QuerySet[Cohort]:
    return (
        Cohort.objects.filter(registration_opens_on__lte=on, registration_closes_on__gte=on)
        .select_related("hub")
        .order_by("start_date", "hub__name")
    )


def places_held(*, user: User, identifier: str) -> list[Participant]:
    """``user``'s live enrolments (active or deferred) in the intake ``identifier`` (e.g.
    ``2025-autumn``) at any hub: an NPQ they hold there cannot be applied for again."""
    return list(
        Participant.objects.filter(
            user=user, status__in=Participant.LIVE_STATUSES, course__cohort__identifier=identifier
        ).select_related("course__programme", "course__cohort__hub")
    )


def place_held(*, user: User, course: Course) -> Participant | None:
    """``user``'s live enrolment on ``course``'s NPQ in the same intake, if they have one."""
    return next(
        (
            p
            for p in places_held(user=user, identifier=course.cohort.identifier)
            if p.course.programme_id == course.programme_id
        ),
        None,
    )


def applications_for_user(*, user: User) -> QuerySet[Application]:
    return (
        Application.objects.filter(user=user)
        .select_related("course__programme", "cohort__hub", "funding_decision")
        .order_by("-started_at")
    )


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    at: datetime
    note: str


def application_timeline(*, application: Application) -> list[TimelineEntry]:
    entries = [TimelineEntry("Started", application.started_at, "")]
    for t in application.transitions.all():
        entries.append(TimelineEntry(Application.Status(t.to_status).label, t.at, t.note))
    return entries


def next_step_text(application: Application) -> str:
    return NEXT_STEPS[Application.Status(application.status)]


# --- Endorsers (headteachers and line managers) --------------------------------------------------


@dataclass(frozen=True)
class EndorserRequests:
    """What a headteacher or line manager was asked: still to answer, and already answered."""

    waiting: list[Endorsement]
    answered: list[Endorsement]

    def __bool__(self) -> bool:
        return bool(self.waiting or self.answered)


def endorsements_addressed_to(*, user: User) -> QuerySet[Endorsement]:
    """Endorsement requests sent to one of ``user``'s verified email addresses (an address they
    have not confirmed shows nothing), other than requests about their own applications."""
    verified = (
        EmailAddress.objects.filter(user=user, verified=True)
        .annotate(address=Lower("email"))
        .values("address")
    )
    return (
        Endorsement.objects.annotate(addressed_to=Lower("endorser_email"))
        .filter(addressed_to__in=verified)
        .exclude(application__user=user)
    )


def endorser_requests(*, user: User, now: datetime | None = None) -> EndorserRequests:
    """The requests ``user`` may still answer (from the emailed link, soonest to expire first) and
    those they answered (latest first). Replaced or expired unanswered requests are left out."""
    now = now or timezone.now()
    requests = endorsements_addressed_to(user=user).select_related(
        "application__course__programme", "application__cohort__hub"
    )
    still_open = Q(
        kind=Endorsement.Kind.APPLICATION, application__status=Application.Status.AWAITING_ENDORSEMENT
    ) | Q(
        kind=Endorsement.Kind.CHANGE_OF_EMPLOYER,
        application__participant__status__in=Participant.LIVE_STATUSES,
    )
    waiting = requests.filter(
        still_open, used_at__isnull=True, replaced_at__isnull=True, expires_at__gt=now
    ).order_by("expires_at")
    answered = requests.filter(used_at__isnull=False).order_by("-used_at")
    return EndorserRequests(waiting=list(waiting), answered=list(answered))
