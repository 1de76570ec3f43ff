"""The route through the questions: which comes next for the answers given so far, and the
answers each step saves (the route itself is common/journey.py's)."""

from __future__ import annotations

from typing import Any

from common import journey

from ..eligibility import SCHOOL_NURSERIES, SCHOOL_SETTINGS
from .questions import STEPS


def workplace_step(answers: dict[str, Any]) -> str | None:
    """The next question about where the person works, or None once that is answered.
    Shared by the funding checker and the application form."""
    if "work_setting" not in answers:
        return "work-setting"
    setting = answers["work_setting"]
    if setting == "early_years":
        if "kind_of_nursery" not in answers:
            return "kind-of-nursery"
        if answers["kind_of_nursery"] in SCHOOL_NURSERIES:
            setting = "school"
        elif "ofsted_urn" not in answers:
            return "ofsted"
    if setting in SCHOOL_SETTINGS and "urn" not in answers and not answers.get("workplace_not_listed"):
        return "workplace"
    if setting == "another_setting":
        if "employment_type" not in answers:
            return "employment"
        if (
            answers["employment_type"] == "lead_mentor_for_accredited_itt_provider"
            and "itt_provider" not in answers
        ):
            return "itt-provider"
    if setting == "other" and "referred_by_return_to_teaching_adviser" not in answers:
        return "return-to-teaching"
    return None


def next_step(answers: dict[str, Any]) -> str:
    """The first question not yet answered on this applicant's route, or ``result``."""
    if "course" not in answers:
        return "course"
    if "in_england" not in answers:
        return "in-england"
    if answers["in_england"] == "no":
        return "result"
    if step := workplace_step(answers):
        return step
    if answers["course"] == "EHCO":
        if "headteacher" not in answers:
            return "headteacher"
        if "npqh_status" not in answers:
            return "npqh"
    return "result"


# The answers each step saves. The workplace step saves either a chosen establishment or, for
# one not listed, its name and postcode.
WORKPLACE_FIELDS = ("workplace", "urn", "workplace_not_listed", "workplace_name", "workplace_postcode")
STEP_FIELDS = {name: tuple(form.base_fields) for name, (form, _) in STEPS.items()}
STEP_FIELDS["workplace"] = WORKPLACE_FIELDS


def route(answers: dict[str, Any]) -> list[str]:
    """The questions asked so far, in order (for back links and the summary)."""
    return journey.route(answers, next_step, STEP_FIELDS, "result")


def answers_on_route(answers: dict[str, Any]) -> dict[str, Any]:
    return journey.answers_on_route(answers, next_step, STEP_FIELDS, "result")


def answers_after_saving(answers: dict[str, Any], step: str, new: dict[str, Any]) -> dict[str, Any]:
    """The checker's answers once ``step`` is (re)answered: every other answer is kept."""
    return journey.answers_after_saving(answers, step, new, next_step, STEP_FIELDS, "result")
