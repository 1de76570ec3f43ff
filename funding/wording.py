"""What hub staff read about funding decisions: each reason code and each fact in words.

``eligibility.EXPLANATIONS`` speak to the applicant ("You are likely to be eligible ...").
``REASON_LABELS`` is the one mapping staff pages use for the same codes: the applications list and
page, the funding decisions list, filter and page, the review queue and the funding report.
CSV exports, ``assess_funding`` and the API keep the codes (docs/domain.md, "Reason codes").
"""

from __future__ import annotations

from typing import Any

from .eligibility import Reason

REASON_LABELS: dict[str, str] = {
    Reason.FUNDED: "Funded",
    Reason.FUNDED_LEAD_MENTOR: "Funded as a lead mentor of an accredited ITT provider",
    Reason.FUNDED_EHCO: "Funded for the Early Headship Coaching Offer",
    Reason.SUBJECT_TO_REVIEW: "To be reviewed: the hub checks whether the role is eligible",
    # A school the applicant could not find in GIAS (the code as a string: added with that check).
    "workplace_not_listed": "To be reviewed: workplace not found in the register of schools",
    Reason.REFERRED_BY_RETURN_TO_TEACHING_ADVISER: (
        "To be reviewed: referred by a return-to-teaching adviser, not working in a school now"
    ),
    Reason.UNFUNDED_COHORT: "Not funded: the cohort has no scholarship funding",
    Reason.NOT_IN_ENGLAND: "Not funded: works outside England",
    Reason.PREVIOUSLY_FUNDED: "Not funded: already funded for this NPQ",
    Reason.INELIGIBLE_ESTABLISHMENT_TYPE: "Not funded: this type of workplace is not funded",
    Reason.INELIGIBLE_ESTABLISHMENT_NOT_ON_LIST: "Not funded: workplace not on DfE's eligibility lists",
    Reason.EARLY_YEARS_INVALID_NPQ: "Not funded: this NPQ is not funded in this kind of early years setting",
    Reason.NOT_ENTITLED_CHILDMINDER: "Not funded: childminder not on DfE's eligibility list",
    Reason.NOT_LEAD_MENTOR_COURSE: "Not funded: lead mentors are funded only for NPQLTD",
    Reason.NOT_NEW_HEADTEACHER_REQUESTING_EHCO: "Not funded: not a new headteacher (first 5 years of headship)",
    Reason.EHCO_NO_NPQH: "Not funded: has not done or started NPQH",
    Reason.EHCO_PREVIOUSLY_WITHDRAWN: "Not funded: withdrew from the coaching offer before",
    Reason.MARKED_FUNDED_BY_POLICY: "Funded by the hub's policy decision",
    Reason.MARKED_INELIGIBLE_BY_POLICY: "Not funded by the hub's policy decision",
}


def reason_label(code: str) -> str:
    """The staff's words for a reason code (a code the portal does not know reads as words too)."""
    return REASON_LABELS.get(code) or code.replace("_", " ").capitalize()


YES_NO = {True: "Yes", False: "No"}
# An accepted application's funded place (applications/funded_places.py); None: not recorded.
FUNDED_PLACE = {
    True: "Yes: a funded place",
    False: "No: paid by the school or the participant",
    None: "Not set",
}

WORK_SETTINGS = {
    "school": "A school",
    "academy_trust": "An academy trust",
    "16_to_19": "A 16 to 19 educational setting",
    "early_years": "An early years setting or as a childminder",
    "another_setting": "Another setting (hospital school, young offender institution, local authority)",
    "other": "None of the settings asked about",
}
KINDS_OF_NURSERY = {
    "local_authority_maintained_nursery": "Local authority-maintained nursery school",
    "preschool_class_as_part_of_school": "Pre-school class or nursery in a school",
    "private_nursery": "Private nursery",
    "childminder": "Childminder",
    "another_early_years_setting": "Another early years setting",
}
EMPLOYMENT_TYPES = {
    "hospital_school": "In a hospital school",
    "young_offender_institution": "In a young offender institution",
    "local_authority_virtual_school": "In a local authority virtual school",
    "local_authority_supply_teacher": "Supply teacher employed by a local authority",
    "lead_mentor_for_accredited_itt_provider": "Lead mentor for an accredited ITT provider",
    "other": "Something else",
}
ELIGIBILITY_LISTS = {
    "pp50_school": "Top 50% of schools by pupil premium",
    "pp50_fe": "Top 50% of 16 to 19 settings by disadvantage",
    "disadvantaged_early_years": "Disadvantaged early years settings",
    "childminder": "Childminders",
    "rise": "RISE schools",
    "la_disadvantaged_nursery": "Local authority nurseries",
}
COHORT_FUNDING = {"full": "Full funding", "capped": "Funding up to a cap", "zero": "No scholarship funding"}
NPQH_STATUSES = {
    "completed": "Completed",
    "in_progress": "Doing it now",
    "will_start": "About to start it",
    "none": "Not done",
}
PLACE_STATUSES = {"withdrawn": "withdrew", "failed": "failed", "passed": "passed", "active": "on the course"}


def _words(mapping: dict[str, str]):
    return lambda value: mapping.get(str(value), str(value).replace("_", " "))


def _yes_no(value: Any) -> str:
    return YES_NO.get(value, str(value)) if isinstance(value, bool) else str(value)


def _lists(value: Any) -> str:
    if not value:
        return "None"
    return "; ".join(ELIGIBILITY_LISTS.get(str(v), str(v).replace("_", " ")) for v in value)


def _places(value: Any) -> str:
    if not value:
        return "None"
    parts = []
    for place in value:
        if isinstance(place, dict):
            status = PLACE_STATUSES.get(str(place.get("status")), str(place.get("status", "")))
            parts.append(f"{place.get('course', '')} ({status})")
        else:
            parts.append(str(place))
    return "; ".join(parts)


# The facts of a decision (docs/domain.md, assess_funding), in the order the rules read them.
FACTS: tuple[tuple[str, str, Any], ...] = (
    ("round", "Funding round", str),
    ("cohort_funding", "Cohort's funding", _words(COHORT_FUNDING)),
    ("course", "NPQ", str),
    ("in_england", "Works in England", _yes_no),
    ("previous_funded_places", "Funded places before", _places),
    ("work_setting", "Where they work", _words(WORK_SETTINGS)),
    ("kind_of_nursery", "Kind of early years setting", _words(KINDS_OF_NURSERY)),
    ("establishment_type_code", "Establishment type (GIAS code)", str),
    ("la_code", "Local authority code", str),
    ("number_of_pupils", "Pupils on roll", str),
    ("eligibility_lists", "On DfE's eligibility lists", _lists),
    ("employment_type", "How they are employed", _words(EMPLOYMENT_TYPES)),
    ("approved_itt_provider", "Lead mentor of an approved ITT provider", _yes_no),
    ("workplace_not_listed", "Workplace not found in the register of schools", _yes_no),
    ("referred_by_return_to_teaching_adviser", "Referred by a return-to-teaching adviser", _yes_no),
    ("headteacher", "Headteacher", _yes_no),
    ("years_as_headteacher", "Years as a headteacher", str),
    ("npqh_status", "NPQ in Headship", _words(NPQH_STATUSES)),
    ("withdrew_from_ehco_before", "Withdrew from the coaching offer before", _yes_no),
)


def _any(value: Any) -> str:
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, list | tuple):
        return "; ".join(_any(v) for v in value) or "None"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_any(v)}" for k, v in value.items())
    return str(value)


def facts_in_words(facts: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) rows for a decision's facts: known facts in the rules' order, then anything
    else the facts hold, named in words (never as JSON)."""
    facts = facts if isinstance(facts, dict) else {}
    rows = [(label, show(facts[key])) for key, label, show in FACTS if facts.get(key) is not None]
    known = {key for key, _, _ in FACTS}
    rows += [
        (key.replace("_", " ").capitalize(), _any(value))
        for key, value in facts.items()
        if key not in known and value is not None
    ]
    return rows


# --- a round's rules in words (funding/rounds/) ------------------------------------------------

SETTINGS = {
    "school": "a school",
    "academy_trust": "an academy trust",
    "16_to_19": "a 16 to 19 setting",
    **{k: v.lower() for k, v in KINDS_OF_NURSERY.items()},
    "early_years": "an early years setting of a kind not given",
    "another_setting": "another setting (hospital school, young offender institution, local authority)",
    "other": "none of the settings asked about",
}


def _either(values: list, words: dict[str, str] | None = None) -> str:
    named = [words.get(str(v), str(v).replace("_", " ")) if words else str(v) for v in values]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def condition_in_words(name: str, value: Any, *, max_years: int) -> str:
    """One condition of a rule as a phrase: ``not_course: ["NPQEYL"]`` -> "NPQ is not NPQEYL"."""
    negated = name.startswith("not_")
    base = name.removeprefix("not_")
    is_ = "is not" if negated else "is"
    if base == "course":
        return f"NPQ {is_} {_either(value)}"
    if base == "setting":
        return f"{'does not work' if negated else 'works'} in: {_either(value, SETTINGS)}"
    if base == "employment_type":
        return f"employed {'not ' if negated else ''}as: {_either(value, EMPLOYMENT_TYPES).lower()}"
    if base == "npqh_status":
        return f"NPQ in Headship {is_}: {_either(value, NPQH_STATUSES).lower()}"
    if base == "on_list":
        return f"{'on none of' if negated else 'on'} DfE's lists: {_either(value, ELIGIBILITY_LISTS)}"
    if base == "establishment_type_code":
        return f"establishment type (GIAS code) {is_} {_either(value)}"
    phrases = {
        "eligible_type": ("a state-funded establishment type", "not a state-funded establishment type"),
        "new_headteacher": (
            f"a headteacher for {max_years} years or fewer",
            f"not a headteacher, or one for more than {max_years} years",
        ),
        "approved_itt_provider": ("the ITT provider is approved", "the ITT provider is not approved"),
        "workplace_not_listed": ("workplace not found in GIAS", "workplace found in GIAS"),
        "referred_by_return_to_teaching_adviser": (
            "referred by a return-to-teaching adviser",
            "not referred by a return-to-teaching adviser",
        ),
        "withdrew_from_ehco_before": (
            "withdrew from the coaching offer before",
            "never withdrew from the coaching offer",
        ),
    }
    if name in phrases:
        yes, no = phrases[name]
        return yes if value else no
    return f"{name.replace('_', ' ')}: {_any(value)}"


def rules_in_words(rules) -> list[tuple[str, str]]:
    """(when, then) for each row of a round's table, in its order, in words."""
    rows = []
    for row in rules.rules:
        when = "; ".join(
            condition_in_words(name, value, max_years=rules.ehco_max_years_as_headteacher)
            for name, value in row["if"].items()
        )
        rows.append((when or "Any other case", reason_label(row["then"])))
    return rows


def round_settings_in_words(rules) -> list[tuple[str, str]]:
    """The round's other settings as (label, value) rows."""
    tsf = (
        f"£{rules.targeted_support_funding_gbp} for a funded place at a setting with 1 to "
        f"{rules.targeted_support_max_pupils} pupils"
        if rules.targeted_support_funding_gbp
        else "None"
    )
    return [
        ("State-funded establishment types (GIAS codes)", ", ".join(map(str, rules.eligible_type_codes))),
        ("Local authorities outside England (codes)", ", ".join(rules.outside_england_la_codes) or "None"),
        (
            "Establishment types outside England (codes)",
            ", ".join(map(str, rules.outside_england_type_codes)) or "None",
        ),
        ("Most years as a headteacher for the coaching offer", str(rules.ehco_max_years_as_headteacher)),
        ("Targeted support funding", tsf),
        (
            "Checked first, in every round",
            "No scholarship funding in the cohort; outside England; funded for this NPQ before",
        ),
        ("When no rule applies", reason_label("ineligible_establishment_type")),
    ]
