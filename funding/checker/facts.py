"""The facts ``funding.eligibility.decide`` reads, from the checker's answers."""

from __future__ import annotations

from typing import Any

from ..models import Institution


def facts_from_answers(answers: dict[str, Any], funding_round) -> dict[str, Any]:
    """Facts for ``decide`` from the checker's answers and the stored GIAS and list data."""
    from ..models import IttProvider
    from ..services import facts_for_early_years, facts_for_institution

    facts: dict[str, Any] = {
        "round": funding_round.code,
        "course": answers["course"],
        "in_england": answers.get("in_england") == "yes",
    }
    for name in ("work_setting", "kind_of_nursery", "employment_type", "npqh_status"):
        if answers.get(name):
            facts[name] = answers[name]
    if answers.get("urn"):
        institution = Institution.objects.filter(urn=answers["urn"]).first()
        if institution is not None:
            facts.update(facts_for_institution(institution=institution, funding_round=funding_round))
    if answers.get("workplace_not_listed") and not answers.get("urn"):
        facts["workplace_not_listed"] = True
    if answers.get("ofsted_urn"):
        facts.update(facts_for_early_years(ofsted_urn=answers["ofsted_urn"], funding_round=funding_round))
    if answers.get("itt_provider"):
        facts["approved_itt_provider"] = IttProvider.objects.filter(
            pk=answers["itt_provider"], approved=True
        ).exists()
    if "headteacher" in answers:
        facts["headteacher"] = answers["headteacher"] == "yes"
        if answers.get("years_as_headteacher") is not None:
            facts["years_as_headteacher"] = answers["years_as_headteacher"]
    if "referred_by_return_to_teaching_adviser" in answers:
        facts["referred_by_return_to_teaching_adviser"] = (
            answers["referred_by_return_to_teaching_adviser"] == "yes"
        )
    if "withdrew_from_ehco_before" in answers:
        facts["withdrew_from_ehco_before"] = answers["withdrew_from_ehco_before"] == "yes"
    return facts
