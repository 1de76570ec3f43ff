"""Reads for applicants: open cohorts, their applications and each one's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet

from accounts.models import User
from programmes.models import Cohort

from .models import Application

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


def open_cohorts(*, on: date) -> QuerySet[Cohort]:
    return (
        Cohort.objects.filter(registration_opens_on__lte=on, registration_closes_on__gte=on)
        .select_related("hub")
        .order_by("start_date", "hub__name")
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
