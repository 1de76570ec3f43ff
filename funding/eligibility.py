"""Funding eligibility: a pure function from facts to a decision with one reason code.

The order of checks is DfE's (DOMAIN.md): cohort unfunded -> outside England -> previously
funded for this NPQ -> EHCO rules -> rules of the workplace kind. The round's rules are data
(``funding.rounds.RoundRules``). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rounds import ALL_COURSES, DEFAULT_ROUNDS, RoundRules


class Reason:
    """The reason codes: the contract every screen, export and test uses."""

    FUNDED = "funded"
    FUNDED_LEAD_MENTOR = "funded_lead_mentor"
    FUNDED_EHCO = "funded_ehco"
    SUBJECT_TO_REVIEW = "subject_to_review"
    WORKPLACE_NOT_LISTED = "workplace_not_listed"
    UNFUNDED_COHORT = "unfunded_cohort"
    NOT_IN_ENGLAND = "not_in_england"
    PREVIOUSLY_FUNDED = "previously_funded"
    INELIGIBLE_ESTABLISHMENT_TYPE = "ineligible_establishment_type"
    INELIGIBLE_ESTABLISHMENT_NOT_ON_LIST = "ineligible_establishment_not_on_list"
    EARLY_YEARS_INVALID_NPQ = "early_years_invalid_npq"
    NOT_ENTITLED_CHILDMINDER = "not_entitled_childminder"
    NOT_LEAD_MENTOR_COURSE = "not_lead_mentor_course"
    NOT_NEW_HEADTEACHER_REQUESTING_EHCO = "not_new_headteacher_requesting_ehco"
    EHCO_NO_NPQH = "ehco_no_npqh"
    EHCO_PREVIOUSLY_WITHDRAWN = "ehco_previously_withdrawn"
    MARKED_FUNDED_BY_POLICY = "marked_funded_by_policy"
    MARKED_INELIGIBLE_BY_POLICY = "marked_ineligible_by_policy"


ALL_REASONS = tuple(value for name, value in vars(Reason).items() if name.isupper())
FUNDED_REASONS = {
    Reason.FUNDED,
    Reason.FUNDED_LEAD_MENTOR,
    Reason.FUNDED_EHCO,
    Reason.MARKED_FUNDED_BY_POLICY,
}

# Plain English for participants and staff; {course} is filled in.
EXPLANATIONS: dict[str, str] = {
    Reason.FUNDED: "You are likely to be eligible for scholarship funding for {course}.",
    Reason.FUNDED_LEAD_MENTOR: (
        "As a lead mentor for an accredited initial teacher training provider, you are likely to be "
        "eligible for scholarship funding for {course}."
    ),
    Reason.FUNDED_EHCO: "You are likely to be eligible for funding for the Early Headship Coaching Offer.",
    Reason.SUBJECT_TO_REVIEW: (
        "We need to check whether your role is eligible for funding for {course}. "
        "Your hub will contact you; you can still apply."
    ),
    Reason.WORKPLACE_NOT_LISTED: (
        "We could not find your workplace in the register of schools and colleges, so your hub "
        "will check whether it is eligible for funding for {course}. You can still apply."
    ),
    Reason.UNFUNDED_COHORT: "This cohort has no scholarship funding. Your school or you would pay for the course.",
    Reason.NOT_IN_ENGLAND: "Scholarship funding is only for people working in England.",
    Reason.PREVIOUSLY_FUNDED: (
        "You have already had scholarship funding for {course}. Funding is given once for each NPQ."
    ),
    Reason.INELIGIBLE_ESTABLISHMENT_TYPE: "Your workplace is not a type of setting that is funded for {course}.",
    Reason.INELIGIBLE_ESTABLISHMENT_NOT_ON_LIST: (
        "Funding for {course} is targeted at the schools and settings on DfE's eligibility lists, "
        "and your workplace is not on them."
    ),
    Reason.EARLY_YEARS_INVALID_NPQ: (
        "In an early years setting, funding is only for the NPQ in Early Years Leadership."
    ),
    Reason.NOT_ENTITLED_CHILDMINDER: "Childminders are funded only when they are on DfE's eligibility list.",
    Reason.NOT_LEAD_MENTOR_COURSE: (
        "Lead mentors for initial teacher training providers are funded only for the NPQ in "
        "Leading Teacher Development."
    ),
    Reason.NOT_NEW_HEADTEACHER_REQUESTING_EHCO: (
        "The Early Headship Coaching Offer is for headteachers in their first 5 years of headship."
    ),
    Reason.EHCO_NO_NPQH: (
        "The Early Headship Coaching Offer is for headteachers who have completed, or are doing, the NPQ in Headship."
    ),
    Reason.EHCO_PREVIOUSLY_WITHDRAWN: (
        "You withdrew from the Early Headship Coaching Offer before, so you cannot be funded for it again."
    ),
    Reason.MARKED_FUNDED_BY_POLICY: "Your hub has confirmed your funding for {course}.",
    Reason.MARKED_INELIGIBLE_BY_POLICY: "Your hub has decided that you are not eligible for funding for {course}.",
}

SCHOOL_SETTINGS = ("school", "academy_trust", "16_to_19")
WORK_SETTINGS = (*SCHOOL_SETTINGS, "early_years", "another_setting", "other")
KINDS_OF_NURSERY = (
    "local_authority_maintained_nursery",
    "preschool_class_as_part_of_school",
    "private_nursery",
    "childminder",
    "another_early_years_setting",
)
SCHOOL_NURSERIES = ("local_authority_maintained_nursery", "preschool_class_as_part_of_school")
EMPLOYMENT_TYPES = (
    "hospital_school",
    "young_offender_institution",
    "local_authority_virtual_school",
    "local_authority_supply_teacher",
    "lead_mentor_for_accredited_itt_provider",
    "other",
)
LIST_KINDS = ("pp50_school", "pp50_fe", "disadvantaged_early_years", "childminder", "rise")
NPQH_STATUSES = ("completed", "in_progress", "none")
PLACE_STATUSES = ("withdrawn", "failed", "passed", "active")
COHORT_FUNDING = ("full", "capped", "zero")


@dataclass(frozen=True)
class PreviousPlace:
    course: str
    status: str


@dataclass(frozen=True)
class Facts:
    """What the decision is made from. Absent facts mean "no" or "unknown"."""

    round: str
    course: str
    cohort_funding: str | None = None
    in_england: bool = False
    work_setting: str | None = None
    establishment_type_code: int | None = None
    la_code: str | None = None
    number_of_pupils: int | None = None
    eligibility_lists: tuple[str, ...] = ()
    kind_of_nursery: str | None = None
    employment_type: str | None = None
    approved_itt_provider: bool = False
    # A school or college the applicant could not find in GIAS (so no type, LA or lists).
    workplace_not_listed: bool = False
    headteacher: bool = False
    years_as_headteacher: int | None = None
    npqh_status: str | None = None
    withdrew_from_ehco_before: bool = False
    previous_funded_places: tuple[PreviousPlace, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decision:
    funded: bool
    reason: str
    subject_to_review: bool = False
    targeted_support_funding_gbp: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "funded": self.funded,
            "reason": self.reason,
            "subject_to_review": self.subject_to_review,
            "targeted_support_funding_gbp": self.targeted_support_funding_gbp,
        }

    def explanation(self, course_name: str) -> str:
        return EXPLANATIONS[self.reason].format(course=course_name)


def _no(reason: str) -> Decision:
    return Decision(funded=False, reason=reason)


def _yes(reason: str = Reason.FUNDED, tsf: int = 0) -> Decision:
    return Decision(funded=True, reason=reason, targeted_support_funding_gbp=tsf)


def _not_listed() -> Decision:
    """A school the applicant could not find: nothing is known about it, so staff check it."""
    return Decision(funded=False, reason=Reason.WORKPLACE_NOT_LISTED, subject_to_review=True)


def decide(facts: Facts, rules: RoundRules | None = None) -> Decision:
    """The funding decision for ``facts`` under the round's ``rules`` (default: the round's own)."""
    rules = rules or DEFAULT_ROUNDS[facts.round]
    if facts.cohort_funding == "zero":
        return _no(Reason.UNFUNDED_COHORT)
    if _outside_england(facts, rules):
        return _no(Reason.NOT_IN_ENGLAND)
    if any(place.course == facts.course for place in facts.previous_funded_places):
        # Once per NPQ: any earlier funded place on this NPQ (withdrawn, failed, passed or
        # still active) has used the scholarship.
        return _no(Reason.PREVIOUSLY_FUNDED)
    if facts.course == "EHCO":
        return _ehco(facts, rules)
    if facts.work_setting in SCHOOL_SETTINGS:
        return _school(facts, rules)
    if facts.work_setting == "early_years":
        return _early_years(facts, rules)
    if facts.work_setting == "another_setting":
        return _another_setting(facts, rules)
    return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)


def _outside_england(facts: Facts, rules: RoundRules) -> bool:
    return (
        not facts.in_england
        or (facts.la_code is not None and facts.la_code in rules.outside_england_la_codes)
        or facts.establishment_type_code in rules.outside_england_type_codes
    )


def _eligible_establishment(facts: Facts, rules: RoundRules) -> bool:
    return facts.establishment_type_code in rules.eligible_type_codes


def _targeted_support(facts: Facts, rules: RoundRules) -> int:
    pupils = facts.number_of_pupils
    if rules.targeted_support_funding_gbp and pupils and 1 <= pupils <= rules.targeted_support_max_pupils:
        return rules.targeted_support_funding_gbp
    return 0


def _on_list(facts: Facts, kinds: tuple[str, ...]) -> bool:
    return any(kind in facts.eligibility_lists for kind in kinds)


def _ehco(facts: Facts, rules: RoundRules) -> Decision:
    years = facts.years_as_headteacher
    if not facts.headteacher or years is None or years > rules.ehco_max_years_as_headteacher:
        return _no(Reason.NOT_NEW_HEADTEACHER_REQUESTING_EHCO)
    if facts.npqh_status not in ("completed", "in_progress"):
        return _no(Reason.EHCO_NO_NPQH)
    if facts.withdrew_from_ehco_before:
        return _no(Reason.EHCO_PREVIOUSLY_WITHDRAWN)
    if facts.work_setting in SCHOOL_SETTINGS and facts.workplace_not_listed:
        return _not_listed()
    if facts.work_setting not in SCHOOL_SETTINGS or not _eligible_establishment(facts, rules):
        return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)
    return _yes(Reason.FUNDED_EHCO)


def _school(facts: Facts, rules: RoundRules) -> Decision:
    if facts.workplace_not_listed:
        return _not_listed()
    if not _eligible_establishment(facts, rules):
        return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)
    if facts.course in rules.targeted_courses:
        if not _on_list(facts, rules.targeted_list_kinds.get(facts.work_setting or "", ())):
            return _no(Reason.INELIGIBLE_ESTABLISHMENT_NOT_ON_LIST)
    elif facts.course not in rules.open_courses:
        return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)
    return _yes(tsf=_targeted_support(facts, rules))


def _early_years(facts: Facts, rules: RoundRules) -> Decision:
    if facts.course not in rules.early_years_courses:
        return _no(Reason.EARLY_YEARS_INVALID_NPQ)
    nursery = facts.kind_of_nursery
    if nursery == "childminder":
        if _on_list(facts, rules.childminder_list_kinds):
            return _yes()
        return _no(Reason.NOT_ENTITLED_CHILDMINDER)
    if nursery in SCHOOL_NURSERIES:
        # A nursery school or a school's pre-school class: judged as the school it is.
        if facts.workplace_not_listed:
            return _not_listed()
        if not _eligible_establishment(facts, rules):
            return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)
        if facts.course in rules.targeted_courses and not _on_list(
            facts, rules.targeted_list_kinds.get("early_years", ())
        ):
            return _no(Reason.INELIGIBLE_ESTABLISHMENT_NOT_ON_LIST)
        return _yes(tsf=_targeted_support(facts, rules))
    if nursery in ("private_nursery", "another_early_years_setting"):
        if rules.early_years_list_kinds and not _on_list(facts, rules.early_years_list_kinds):
            return _no(Reason.INELIGIBLE_ESTABLISHMENT_NOT_ON_LIST)
        return _yes()
    return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)


def _another_setting(facts: Facts, rules: RoundRules) -> Decision:
    employment = facts.employment_type
    if employment == "lead_mentor_for_accredited_itt_provider":
        if facts.course not in rules.lead_mentor_courses:
            return _no(Reason.NOT_LEAD_MENTOR_COURSE)
        if not facts.approved_itt_provider:
            return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)
        return _yes(Reason.FUNDED_LEAD_MENTOR)
    if employment in rules.review_employment_types and facts.course in rules.review_courses:
        return Decision(funded=False, reason=Reason.SUBJECT_TO_REVIEW, subject_to_review=True)
    if employment in rules.funded_employment_types and facts.course in rules.open_courses:
        return _yes()
    return _no(Reason.INELIGIBLE_ESTABLISHMENT_TYPE)


# --- Parsing facts from JSON (the assess_funding contract) ---------------------------------------


class FactsError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(f"field {field_name!r}: {message}")
        self.field_name = field_name


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise FactsError(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise FactsError(name, f"must be true or false, not {value!r}")
    return value


def _whole_number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FactsError(name, f"must be a whole number of 0 or more, not {value!r}")
    return value


def _la_code(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FactsError(name, f'must be a local authority code such as "886", not {value!r}')
    value = str(value).strip()
    return value.zfill(3) if value.isdigit() else value


def _list_kinds(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise FactsError(name, "must be a list")
    return tuple(_choice(kind, name, LIST_KINDS) for kind in value)


def _previous_places(value: Any, name: str) -> tuple[PreviousPlace, ...]:
    if not isinstance(value, list):
        raise FactsError(name, "must be a list")
    places = []
    for index, place in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(place, dict) or set(place) != {"course", "status"}:
            raise FactsError(where, 'must be an object with exactly "course" and "status"')
        places.append(
            PreviousPlace(
                course=_choice(place["course"], f"{where}.course", ALL_COURSES),
                status=_choice(place["status"], f"{where}.status", PLACE_STATUSES),
            )
        )
    return tuple(places)


PARSERS = {
    "round": lambda v, n: _choice(v, n, tuple(DEFAULT_ROUNDS)),
    "course": lambda v, n: _choice(v, n, ALL_COURSES),
    "cohort_funding": lambda v, n: _choice(v, n, COHORT_FUNDING),
    "in_england": _boolean,
    "work_setting": lambda v, n: _choice(v, n, WORK_SETTINGS),
    "establishment_type_code": _whole_number,
    "la_code": _la_code,
    "number_of_pupils": _whole_number,
    "eligibility_lists": _list_kinds,
    "kind_of_nursery": lambda v, n: _choice(v, n, KINDS_OF_NURSERY),
    "employment_type": lambda v, n: _choice(v, n, EMPLOYMENT_TYPES),
    "approved_itt_provider": _boolean,
    "workplace_not_listed": _boolean,
    "headteacher": _boolean,
    "years_as_headteacher": _whole_number,
    "npqh_status": lambda v, n: _choice(v, n, NPQH_STATUSES),
    "withdrew_from_ehco_before": _boolean,
    "previous_funded_places": _previous_places,
}


def parse_facts(data: Any) -> Facts:
    """Facts from one JSON object. Unknown keys are refused: a misspelt key would otherwise
    silently read as "no"."""
    if not isinstance(data, dict):
        raise FactsError("(item)", "must be a JSON object")
    unknown = sorted(set(data) - set(PARSERS))
    if unknown:
        raise FactsError(unknown[0], "is not a known fact")
    for required in ("round", "course"):
        if data.get(required) is None:
            raise FactsError(required, "is required")
    values = {name: PARSERS[name](value, name) for name, value in data.items() if value is not None}
    return Facts(**values)
