"""Writes of funding decisions: assess (from facts), override (by policy), review."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from programmes.models import Course, Participant

from .eligibility import decide, parse_facts
from .models import EligibilityListEntry, FundingDecision, FundingReview, FundingRound, Institution

PLACE_STATUS = {
    Participant.Status.WITHDRAWN: "withdrawn",
    Participant.Status.COMPLETED: "passed",
    Participant.Status.ACTIVE: "active",
    Participant.Status.DEFERRED: "active",
}


def previous_funded_places(*, user: User, exclude_course: Course | None = None) -> list[dict[str, str]]:
    """The funded places ``user`` has taken up, as DfE defines them: enrolments (accepted places)
    on courses they were eligible for, except places accepted as not funded (``funded_place``
    false: paid by the school or the participant)."""
    funded_courses = [
        d.course_id
        for d in FundingDecision.objects.filter(user=user).exclude(course=exclude_course)
        if d.effective_funded
    ]
    enrolments = (
        Participant.objects.filter(user=user, course_id__in=funded_courses)
        .exclude(application__funded_place=False)
        .select_related("course__programme")
    )
    from assessment.models import Outcome

    results = dict(
        Outcome.objects.filter(entry__participant__in=enrolments).values_list(
            "entry__participant_id", "result"
        )
    )
    # A failed assessment uses the place just as a withdrawal does (once per NPQ).
    return [
        {"course": p.course.programme.code, "status": results.get(p.pk, PLACE_STATUS[p.status])}
        for p in enrolments
    ]


def facts_for_institution(*, institution: Institution, funding_round: FundingRound) -> dict[str, Any]:
    """Facts about a GIAS establishment: type, local authority, pupils and the lists it is on."""
    identifiers = [str(institution.urn)] + ([str(institution.ukprn)] if institution.ukprn else [])
    lists = sorted(
        set(
            EligibilityListEntry.objects.filter(
                funding_round=funding_round, identifier__in=identifiers
            ).values_list("kind", flat=True)
        )
    )
    facts: dict[str, Any] = {"eligibility_lists": lists}
    if institution.establishment_type_code is not None:
        facts["establishment_type_code"] = institution.establishment_type_code
    if institution.la_code:
        facts["la_code"] = institution.la_code
    if institution.number_of_pupils is not None:
        facts["number_of_pupils"] = institution.number_of_pupils
    return facts


def facts_for_early_years(*, ofsted_urn: str, funding_round: FundingRound) -> dict[str, Any]:
    lists = EligibilityListEntry.objects.filter(funding_round=funding_round, identifier=ofsted_urn.upper())
    return {"eligibility_lists": sorted(set(lists.values_list("kind", flat=True)))}


@transaction.atomic
def funding_decision_assess(*, user: User, course: Course, answers: dict[str, Any]) -> FundingDecision:
    """Decide (or decide again) ``user``'s funding for ``course`` from their ``answers``.

    The round, the cohort's funding model, the course and the previous funded places come from
    the database, not from the answers. A decision that needs review joins the review queue.
    """
    cohort = course.cohort
    facts = {
        **answers,
        "round": cohort.funding_round.code,
        "cohort_funding": cohort.funding_model,
        "course": course.programme.code,
        "previous_funded_places": previous_funded_places(user=user, exclude_course=course),
    }
    decision = decide(parse_facts(facts), cohort.funding_round.rules())
    record, _ = FundingDecision.objects.update_or_create(
        user=user,
        course=course,
        defaults={
            "funding_round": cohort.funding_round,
            "facts": facts,
            "funded": decision.funded,
            "reason": decision.reason,
            "subject_to_review": decision.subject_to_review,
            "targeted_support_funding_gbp": decision.targeted_support_funding_gbp,
            "assessed_at": timezone.now(),
        },
    )
    if decision.subject_to_review:
        FundingReview.objects.get_or_create(decision=record)
    _review_after_registering_again(record)
    return record


def _review_after_registering_again(record: FundingDecision) -> None:
    """A case whose applicant was asked to register again is taken up by their new answers: back
    in the queue if they still need review, otherwise decided by the rules."""
    from .reviews import funding_review_update
    from .wording import reason_label

    review = FundingReview.objects.filter(decision=record, status=FundingReview.Status.REREGISTER).first()
    if review is None:
        return
    if record.subject_to_review:
        funding_review_update(
            review=review,
            status=FundingReview.Status.NEEDS_REVIEW,
            note="Registered again: the new answers still need review.",
            by=None,
        )
    else:
        funding_review_update(
            review=review,
            status=FundingReview.Status.DECISION_MADE,
            note=f"Registered again: decided by the rules ({reason_label(record.reason)}).",
            by=None,
        )


@transaction.atomic
def funding_decision_reassess(*, decision: FundingDecision) -> FundingDecision:
    answers = {
        k: v
        for k, v in decision.facts.items()
        if k not in {"round", "cohort_funding", "course", "previous_funded_places"}
    }
    return funding_decision_assess(user=decision.user, course=decision.course, answers=answers)


class OverrideError(ValueError):
    pass


@transaction.atomic
def funding_decision_override(
    *, decision: FundingDecision, funded: bool | None, reason: str, by: User
) -> FundingDecision:
    """Mark funded or ineligible "by policy" (with a reason), or clear the override (None)."""
    if funded is not None and not reason.strip():
        raise OverrideError("Give the reason for deciding by policy.")
    decision = FundingDecision.objects.select_for_update().get(pk=decision.pk)
    decision.override_funded = funded
    decision.override_reason = reason.strip() if funded is not None else ""
    decision.overridden_by = by if funded is not None else None
    decision.overridden_at = timezone.now() if funded is not None else None
    decision._history_user = by
    decision.save()
    review = FundingReview.objects.filter(decision=decision).first()
    if review and funded is not None:
        from .reviews import funding_review_update

        funding_review_update(
            review=review,
            status=FundingReview.Status.DECISION_MADE,
            note=f"{'Funded' if funded else 'Ineligible'} by policy: {reason.strip()}",
            by=by,
        )
    return decision
