"""Drafts: starting, answering, submitting (funding decided, endorser asked), withdrawing and expiring."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from funding.services import funding_decision_assess
from programmes.models import Cohort, Course

from ..models import Application, Employment
from ..selectors import place_held
from .endorsement import endorsement_request
from .lifecycle import ApplicationError, PlaceAlreadyHeld, S, _locked, transition

# --- Drafts -------------------------------------------------------------------------------------


def registration_deadline(application: Application) -> datetime:
    return application.started_at + timedelta(days=settings.APPLICATION_COMPLETION_DAYS)


@transaction.atomic
def application_start(*, user: User, cohort: Cohort) -> Application:
    """Start (or return the open draft of) an application to ``cohort``."""
    if not cohort.is_open_for_registration(timezone.localdate()):
        raise ApplicationError(f"Registration for {cohort.identifier} is not open.")
    draft = Application.objects.filter(user=user, cohort=cohort, status=S.DRAFT).first()
    if draft:
        return draft
    try:
        with transaction.atomic():
            return Application.objects.create(user=user, cohort=cohort, started_at=timezone.now())
    except IntegrityError:  # the same person's other click made it a moment ago
        return Application.objects.get(user=user, cohort=cohort, status=S.DRAFT)


@transaction.atomic
def application_save_answers(
    *, application: Application, values: dict[str, Any], drop: tuple[str, ...] = ()
) -> Application:
    """Save a page of answers to a draft (and forget answers that no longer apply)."""
    application = _locked(application)
    if application.status != S.DRAFT:
        raise ApplicationError("This application has been submitted and can no longer be changed.")
    answers = {k: v for k, v in application.answers.items() if k not in drop}
    answers.update(values)
    application.answers = answers
    if "course" in values:
        application.course = Course.objects.get(pk=values["course"], cohort=application.cohort)
    application.save(update_fields=["answers", "course"])
    return application


REQUIRED_ANSWERS = (
    "course",
    "in_england",
    "work_setting",
    "role",
    "trn",
    "full_name",
    "date_of_birth",
    "endorser_name",
    "endorser_email",
    "mentor_name",
    "mentor_email",
    "support_requested",
    "consent",
)


@transaction.atomic
def application_submit(*, application: Application, by: User) -> Application:
    """Submit a complete draft: decide funding, then ask the endorser by email."""
    application = _locked(application)
    answers = application.answers
    if any(name not in answers for name in REQUIRED_ANSWERS):
        raise ApplicationError("Answer every question before submitting.")
    if (held := place_held(user=application.user, course=application.course)) is not None:
        # An accepted (or directly enrolled) NPQ is not applied for twice: no second endorsement.
        raise PlaceAlreadyHeld(held)
    if answers.get("consent") is not True:
        raise ApplicationError("Confirm that you agree to share your information before submitting.")
    if timezone.now() > registration_deadline(application):
        raise ApplicationError("The time to complete this application has passed.")
    from funding.checker import facts_from_answers  # the same facts as the public checker

    facts = facts_from_answers(
        {**answers, "course": application.course.programme.code}, application.cohort.funding_round
    )
    for key in ("round", "course"):
        facts.pop(key, None)
    application.funding_decision = funding_decision_assess(
        user=application.user, course=application.course, answers=facts
    )
    application.trn = answers["trn"]
    application.full_name = answers["full_name"]
    application.date_of_birth = answers["date_of_birth"]
    application.endorser_name = answers["endorser_name"]
    application.endorser_email = answers["endorser_email"].lower()
    application.payment = answers.get(
        "payment", Application.Payment.SCHOLARSHIP if application.funding_decision.effective_funded else ""
    )
    application.support_requested = answers["support_requested"] == "yes"
    application.workplace_name = answers.get("workplace_name", "")
    application.institution_id = answers.get("urn") if answers.get("urn") else None
    application.submitted_at = timezone.now()
    application.save()
    transition(application, S.SUBMITTED, by=by)
    employment = Employment.objects.create(
        application=application,
        workplace_name=application.workplace_name or "Not given",
        institution_id=application.institution_id,
        role=answers.get("role", ""),
        headteacher_name=application.endorser_name,
        headteacher_email=application.endorser_email,
    )
    endorsement_request(
        application=application,
        name=application.endorser_name,
        email=application.endorser_email,
        employment=employment,
    )
    transition(application, S.AWAITING_ENDORSEMENT, by=by)
    return application


@transaction.atomic
def application_withdraw(*, application: Application, by: User, reason: str = "") -> Application:
    application = _locked(application)
    if application.status == S.ACCEPTED:
        raise ApplicationError(
            "An accepted application cannot be withdrawn here: ask your hub to withdraw you from the course."
        )
    application.decision_reason = reason
    return transition(application, S.WITHDRAWN, by=by, note=reason)


def applications_expire_stale(*, now: datetime | None = None) -> int:
    """Drafts not completed within the allowed days become ``registration_expired``. Rerunnable."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.APPLICATION_COMPLETION_DAYS)
    expired = 0
    for application in Application.objects.filter(status=S.DRAFT, started_at__lt=cutoff):
        with transaction.atomic():
            application = _locked(application)
            if application.status == S.DRAFT:
                transition(application, S.REGISTRATION_EXPIRED, by=None, at=now, note="Not completed in time")
                expired += 1
    return expired
