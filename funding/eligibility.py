"""Funding eligibility: a pure function from facts to a decision with one reason code.

The order of checks is DfE's (docs/domain.md): cohort unfunded -> outside England -> previously
funded for this NPQ -> the round's own table (EHCO, then the rules of the workplace kind). Every
round's rules are data (``funding.rounds.RoundRules``) read by the one function ``decide``.
Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rounds import (
    ALL_COURSES,
    DEFAULT_ROUNDS,
    LEAD_MENTOR,
    NEGATABLE,
    PRIVATE_EARLY_YEARS,
    SCHOOL_NURSERIES,
    SCHOOL_SETTINGS,
    SPECIAL_EMPLOYMENT,
    RoundRules,
)


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
    REFERRED_BY_RETURN_TO_TEACHING_ADVISER = "referred_by_return_to_teaching_adviser"
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
    Reason.REFERRED_BY_RETURN_TO_TEACHING_ADVISER: (
        "As you were referred by a return-to-teaching adviser, your hub will check whether you can "
        "be funded for {course}. You can still apply."
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
        "In your kind of early years setting, scholarship funding is not given for {course}. "
        "It is given for the NPQ in Early Years Leadership."
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

WORK_SETTINGS = (*SCHOOL_SETTINGS, "early_years", "another_setting", "other")
KINDS_OF_NURSERY = (*SCHOOL_NURSERIES, *PRIVATE_EARLY_YEARS)
EMPLOYMENT_TYPES = (*SPECIAL_EMPLOYMENT, LEAD_MENTOR, "other")
LIST_KINDS = (
    "pp50_school",
    "pp50_fe",
    "disadvantaged_early_years",
    "childminder",
    "rise",
    "la_disadvantaged_nursery",
)
# "will_start": about to start NPQH (counts for EHCO from the 2025-26 round).
NPQH_STATUSES = ("completed", "in_progress", "will_start", "none")
PLACE_STATUSES = ("withdrawn", "failed", "passed", "active")
COHORT_FUNDING = ("full", "capped", "zero")
# Not funded, but not refused either: the hub reviews these.
REVIEW_REASONS = {
    Reason.SUBJECT_TO_REVIEW,
    Reason.WORKPLACE_NOT_LISTED,
    Reason.REFERRED_BY_RETURN_TO_TEACHING_ADVISER,
}
# The reasons a round's rules may give (the policy ones are staff's, never a rule's).
RULE_REASONS = tuple(
    r for r in ALL_REASONS if r not in (Reason.MARKED_FUNDED_BY_POLICY, Reason.MARKED_INELIGIBLE_BY_POLICY)
)


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
    # Someone in none of the settings asked about, sent by a return-to-teaching adviser.
    referred_by_return_to_teaching_adviser: bool = False
    headteacher: bool = False
    years_as_headteacher: int | None = None
    npqh_status: str | None = None
    withdrew_from_ehco_before: bool = False
    previous_funded_places: tuple[PreviousPlace, ...] = field(default_factory=tuple)

    @property
    def setting(self) -> str:
        """The work setting the rules read: an early years setting is named by its kind."""
        if self.work_setting == "early_years":
            return self.kind_of_nursery or "early_years"
        return self.work_setting or ""


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


def decide(facts: Facts, rules: RoundRules | None = None) -> Decision:
    """The funding decision for ``facts`` under the round's ``rules`` (default: the round's own).

    The three general checks come first in every round; then the round's table decides (the
    first rule whose conditions all hold), and a case no rule covers is not a funded setting."""
    rules = rules or DEFAULT_ROUNDS[facts.round]
    if facts.cohort_funding == "zero":
        reason = Reason.UNFUNDED_COHORT
    elif _outside_england(facts, rules):
        reason = Reason.NOT_IN_ENGLAND
    elif any(place.course == facts.course for place in facts.previous_funded_places):
        # Once per NPQ: any earlier funded place on this NPQ (withdrawn, failed, passed or
        # still active) has used the scholarship.
        reason = Reason.PREVIOUSLY_FUNDED
    else:
        reason = next(
            (row["then"] for row in rules.rules if _holds(row["if"], facts, rules)),
            Reason.INELIGIBLE_ESTABLISHMENT_TYPE,
        )
    funded = reason in FUNDED_REASONS
    return Decision(
        funded=funded,
        reason=reason,
        subject_to_review=reason in REVIEW_REASONS,
        targeted_support_funding_gbp=_targeted_support(facts, rules) if reason == Reason.FUNDED else 0,
    )


def _outside_england(facts: Facts, rules: RoundRules) -> bool:
    return (
        not facts.in_england
        or (facts.la_code is not None and facts.la_code in rules.outside_england_la_codes)
        or facts.establishment_type_code in rules.outside_england_type_codes
    )


def _targeted_support(facts: Facts, rules: RoundRules) -> int:
    pupils = facts.number_of_pupils
    if (
        rules.targeted_support_funding_gbp
        and facts.setting in rules.targeted_support_settings
        and pupils
        and 1 <= pupils <= rules.targeted_support_max_pupils
    ):
        return rules.targeted_support_funding_gbp
    return 0


def _fact(name: str, facts: Facts, rules: RoundRules) -> Any:
    """The value of the fact a condition reads."""
    if name == "setting":
        return facts.setting
    if name == "eligible_type":
        return facts.establishment_type_code in rules.eligible_type_codes
    if name == "new_headteacher":
        years = facts.years_as_headteacher
        return facts.headteacher and years is not None and years <= rules.ehco_max_years_as_headteacher
    return getattr(facts, name)


def _holds(conditions: dict[str, Any], facts: Facts, rules: RoundRules) -> bool:
    for name, wanted in conditions.items():
        negated = name.startswith("not_") and name.removeprefix("not_") in NEGATABLE
        base = name.removeprefix("not_") if negated else name
        if base == "on_list":
            found = any(kind in facts.eligibility_lists for kind in wanted)
        elif isinstance(wanted, list):
            found = _fact(base, facts, rules) in wanted
        else:
            found = _fact(base, facts, rules) == wanted
        if found == negated:
            return False
    return True


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
    "referred_by_return_to_teaching_adviser": _boolean,
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
