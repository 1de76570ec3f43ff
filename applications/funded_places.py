"""Funded places: which accepted places DfE's scholarship pays for (docs/domain.md, "Funded places").

Accepting an application sets its ``funded_place``: yes only when the applicant is eligible for
funding; no for a place the school or the participant pays for. A course's ``funded_places`` cap
counts only funded places, so a hub can accept beyond it with places that are not funded. Staff
may change a funded place later, with a reason; every setting is a FundedPlaceChange.

An application with no funding decision recorded (made before decisions were, or by hand) keeps
``funded_place`` unset and is counted against the cap, as every accepted place was before.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from funding.wording import reason_label
from programmes.models import Course, Participant

from .models import Application, FundedPlaceChange

S = Application.Status


class FundedPlaceError(ValueError):
    """A funded place the rules refuse; the message is shown next to the choice."""


def funded_places_used(course: Course) -> int:
    """Accepted applicants still on the course whose place is not marked as not funded."""
    return (
        Application.objects.filter(
            course=course, status=S.ACCEPTED, participant__status__in=Participant.LIVE_STATUSES
        )
        .exclude(funded_place=False)
        .count()
    )


def eligible_for_funding(application: Application) -> bool | None:
    """Whether the application's funding decision funds it (None: no decision recorded)."""
    decision = application.funding_decision
    return None if decision is None else decision.effective_funded


def funded_place_on_accept(application: Application, requested: bool | None) -> bool | None:
    """The funded place an accept gives: what staff chose, or by default yes exactly when the
    applicant is eligible. A funded place for an applicant who is not eligible is refused."""
    eligible = eligible_for_funding(application)
    if requested is None:
        return eligible
    if requested and not eligible:
        raise FundedPlaceError(not_eligible_message(application))
    return requested


def not_eligible_message(application: Application) -> str:
    decision = application.funding_decision
    why = f" ({reason_label(decision.effective_reason)})" if decision is not None else ""
    return (
        f"This applicant is not eligible for funding{why}, so the place cannot be a funded place. "
        "Choose a place paid by the school or the participant."
    )


def no_funded_place_left_message(course: Course) -> str:
    return (
        f"{course} has no funded places left ({course.funded_places} used). Accept it as a place paid "
        "by the school or the participant, which uses no funded place, or put it on the waiting list."
    )


def funded_place_record(
    application: Application, funded_place: bool | None, *, by: User | None, reason: str
) -> None:
    """Set the funded place and keep the change (who, when, why). Unset stays unrecorded."""
    before = application.funded_place
    application.funded_place = funded_place
    application.save(update_fields=["funded_place"])
    if funded_place is not None:
        FundedPlaceChange.objects.create(
            application=application,
            funded_place_before=before,
            funded_place=funded_place,
            reason=reason,
            by=by,
            at=timezone.now(),
        )


@transaction.atomic
def funded_place_change(
    *, application: Application, funded_place: bool, reason: str, by: User
) -> Application:
    """Staff change an accepted application's funded place, with a reason. A funded place needs
    the applicant to be eligible and a funded place free on the course (course row locked)."""
    reason = reason.strip()
    if not reason:
        raise FundedPlaceError("Enter the reason for changing the funded place")
    course = Course.objects.select_for_update(of=("self",), no_key=True).get(pk=application.course_id)
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("funding_decision", "course__programme", "course__cohort")
        .get(pk=application.pk)
    )
    if application.status != S.ACCEPTED:
        raise FundedPlaceError("Only an accepted application has a place whose funding can be changed.")
    if application.funded_place is funded_place:
        raise FundedPlaceError(
            f"The place is already {'a funded place' if funded_place else 'not a funded place'}."
        )
    if funded_place:
        if not eligible_for_funding(application):
            raise FundedPlaceError(not_eligible_message(application))
        # An unset place already counts against the cap; otherwise it needs a free funded place.
        if application.funded_place is False and funded_places_used(course) >= course.funded_places:
            raise FundedPlaceError(
                f"{course} has no funded places left ({course.funded_places} used): free one first."
            )
    funded_place_record(application, funded_place, by=by, reason=reason)
    return application


def funded_places_summary(application: Application) -> str:
    """For the accept page: how many funded places are used and whether the applicant is eligible."""
    course = application.course
    used = funded_places_used(course)
    eligible = eligible_for_funding(application)
    if eligible is None:
        who = "No funding decision is recorded for this applicant."
    elif eligible:
        who = "This applicant is eligible for funding."
    else:
        who = f"This applicant is not eligible for funding ({reason_label(application.funding_decision.effective_reason)})."
    return f"Funded places used on {course}: {used} of {course.funded_places}. {who}"
