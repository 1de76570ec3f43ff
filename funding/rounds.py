"""The rules of each funding round, as data (docs/domain.md, "Funding eligibility").

A round is a ``RoundRules``: a few numbers and code lists, and an ordered table of rules. Each rule
is ``{"if": {condition: value, ...}, "then": reason}``; after the three general checks (cohort
unfunded, outside England, funded before for this NPQ) the first rule whose conditions all hold
gives the reason. ``funding.eligibility.decide`` is the one engine that reads any round.

These are the defaults shipped with the portal. Each round is also a ``FundingRound`` row whose
rules hub staff can see in words and a superuser can edit in admin (with history);
``FundingRound.rules()`` lays the stored JSON over these defaults. ``manage.py assess_funding``
uses the defaults so that it needs no database rows.

Conditions (every one must hold; a ``not_`` prefix on a list condition means "none of"):

- ``course``, ``setting``, ``employment_type``, ``npqh_status``, ``establishment_type_code``:
  the fact is one of the listed values. ``setting`` is the work setting, with an early years
  setting named by its kind (``local_authority_maintained_nursery``, ``childminder``, ...).
- ``on_list``: the workplace is on at least one of the listed eligibility lists.
- ``eligible_type`` (the establishment type is one of the round's state-funded types),
  ``new_headteacher`` (a headteacher for at most ``ehco_max_years_as_headteacher`` years),
  ``approved_itt_provider``, ``workplace_not_listed``, ``referred_by_return_to_teaching_adviser``,
  ``withdrew_from_ehco_before``: true or false.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# GIAS establishment type codes of state-funded settings in England (docs/domain.md).
STATE_FUNDED_TYPE_CODES = (
    1,
    2,
    3,
    5,
    6,
    7,
    8,
    10,
    12,
    14,
    15,
    18,
    24,
    26,
    28,
    31,
    32,
    33,
    34,
    35,
    36,
    38,
    39,
    40,
    41,
    42,
    43,
    44,
    45,
    46,
)
OUTSIDE_ENGLAND_LA_CODES = ("673", "702", "000", "704", "708")
LA_NURSERY_SCHOOL = 15

ALL_NPQS = (
    "NPQLT",
    "NPQLBC",
    "NPQLTD",
    "NPQLL",
    "NPQLPM",
    "NPQSL",
    "NPQH",
    "NPQEL",
    "NPQEYL",
    "NPQSENCO",
)
ALL_COURSES = (*ALL_NPQS, "EHCO")

SCHOOL_SETTINGS = ("school", "academy_trust", "16_to_19")
SCHOOL_NURSERIES = ("local_authority_maintained_nursery", "preschool_class_as_part_of_school")
PRIVATE_EARLY_YEARS = ("private_nursery", "childminder", "another_early_years_setting")
# "early_years" alone: an early years setting whose kind is not known.
EARLY_YEARS_SETTINGS = (*SCHOOL_NURSERIES, *PRIVATE_EARLY_YEARS, "early_years")
SETTINGS = (*SCHOOL_SETTINGS, *EARLY_YEARS_SETTINGS, "another_setting", "other")
# Staff DfE cannot place in an establishment: their role is checked by hand for some NPQs.
SPECIAL_EMPLOYMENT = (
    "hospital_school",
    "young_offender_institution",
    "local_authority_virtual_school",
    "local_authority_supply_teacher",
)
LEAD_MENTOR = "lead_mentor_for_accredited_itt_provider"

# Condition name -> kind of value ("list" of strings, "codes" list of whole numbers, or "bool").
CONDITIONS: dict[str, str] = {
    "course": "list",
    "setting": "list",
    "employment_type": "list",
    "npqh_status": "list",
    "on_list": "list",
    "establishment_type_code": "codes",
    "eligible_type": "bool",
    "new_headteacher": "bool",
    "approved_itt_provider": "bool",
    "workplace_not_listed": "bool",
    "referred_by_return_to_teaching_adviser": "bool",
    "withdrew_from_ehco_before": "bool",
}
NEGATABLE = {name for name, kind in CONDITIONS.items() if kind != "bool"}


def rule(then: str, **conditions: Any) -> dict[str, Any]:
    """One row of a round's table: ``rule("funded", course=["NPQH"], setting=["school"])``."""
    return {
        "if": {name: list(v) if isinstance(v, tuple) else v for name, v in conditions.items()},
        "then": then,
    }


@dataclass(frozen=True)
class RoundRules:
    code: str
    # The ordered table, read after the general checks; nothing matched: ineligible_establishment_type.
    rules: tuple[dict[str, Any], ...] = ()
    eligible_type_codes: tuple[int, ...] = STATE_FUNDED_TYPE_CODES
    # A workplace in one of these local authorities or of one of these types is outside England.
    # (DfE asks the person; a Welsh establishment, type 30, is judged as an ineligible type.)
    outside_england_la_codes: tuple[str, ...] = OUTSIDE_ENGLAND_LA_CODES
    outside_england_type_codes: tuple[int, ...] = ()
    ehco_max_years_as_headteacher: int = 5
    # Targeted support funding for a funded place at a setting with 1 to max pupils on roll.
    targeted_support_funding_gbp: int = 0
    targeted_support_max_pupils: int = 600
    targeted_support_settings: tuple[str, ...] = (*SCHOOL_SETTINGS, *SCHOOL_NURSERIES)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# --- the rule tables ----------------------------------------------------------------------------

REVIEW_NPQS_2025 = ("NPQH", "NPQSL", "NPQSENCO")


def _lead_mentor_rules() -> list[dict[str, Any]]:
    """Lead mentors of an accredited ITT provider: NPQLTD only, and only for an approved provider."""
    lead_mentor = {"setting": ["another_setting"], "employment_type": [LEAD_MENTOR]}
    return [
        rule("not_lead_mentor_course", **lead_mentor, not_course=["NPQLTD"]),
        rule("ineligible_establishment_type", **lead_mentor, approved_itt_provider=False),
        rule("funded_lead_mentor", **lead_mentor),
    ]


def _ehco_rules_with_npqh_and_school() -> list[dict[str, Any]]:
    """EHCO up to spring 2025: a new headteacher with NPQH done or started, who never withdrew,
    in a state-funded school or 16 to 19 setting."""
    ehco = {"course": ["EHCO"]}
    return [
        rule("not_new_headteacher_requesting_ehco", **ehco, new_headteacher=False),
        rule("ehco_no_npqh", **ehco, not_npqh_status=["completed", "in_progress"]),
        rule("ehco_previously_withdrawn", **ehco, withdrew_from_ehco_before=True),
        rule("workplace_not_listed", **ehco, setting=SCHOOL_SETTINGS, workplace_not_listed=True),
        rule("funded_ehco", **ehco, setting=SCHOOL_SETTINGS, eligible_type=True),
        rule("ineligible_establishment_type", **ehco),
    ]


def _ehco_rules_any_setting() -> list[dict[str, Any]]:
    """EHCO from August 2025: a new headteacher (NPQH done, started or about to start), anywhere."""
    return [
        rule(
            "funded_ehco",
            course=["EHCO"],
            new_headteacher=True,
            npqh_status=["completed", "in_progress", "will_start"],
        ),
        rule("not_new_headteacher_requesting_ehco", course=["EHCO"]),
    ]


def _other_setting_rules() -> list[dict[str, Any]]:
    return [
        rule(
            "referred_by_return_to_teaching_adviser",
            setting=["other"],
            referred_by_return_to_teaching_adviser=True,
        ),
        rule("ineligible_establishment_type", setting=["other"]),
    ]


def _rules_2022_23() -> tuple[dict[str, Any], ...]:
    return (
        *_ehco_rules_with_npqh_and_school(),
        # Schools, academy trusts and 16 to 19 settings: every NPQ, at a state-funded establishment;
        # NPQEYL also at a school on DfE's early years list, whatever its type.
        rule("workplace_not_listed", setting=SCHOOL_SETTINGS, workplace_not_listed=True),
        rule("funded", setting=SCHOOL_SETTINGS, course=["NPQEYL"], on_list=["disadvantaged_early_years"]),
        rule("ineligible_establishment_type", setting=SCHOOL_SETTINGS, eligible_type=False),
        rule("funded", setting=SCHOOL_SETTINGS),
        # Early years: NPQEYL only; a nursery school or school class is judged as the school it is.
        rule("early_years_invalid_npq", setting=EARLY_YEARS_SETTINGS, not_course=["NPQEYL"]),
        rule("funded", setting=["childminder"], on_list=["childminder"]),
        rule("not_entitled_childminder", setting=["childminder"]),
        rule("workplace_not_listed", setting=SCHOOL_NURSERIES, workplace_not_listed=True),
        rule("ineligible_establishment_type", setting=SCHOOL_NURSERIES, eligible_type=False),
        rule("funded", setting=[*SCHOOL_NURSERIES, "private_nursery", "another_early_years_setting"]),
        # Another setting.
        *_lead_mentor_rules(),
        rule(
            "subject_to_review",
            setting=["another_setting"],
            employment_type=SPECIAL_EMPLOYMENT,
            course=REVIEW_NPQS_2025,
        ),
        rule(
            "funded",
            setting=["another_setting"],
            employment_type=[
                "hospital_school",
                "young_offender_institution",
                "local_authority_virtual_school",
            ],
        ),
    )


# Spring 2025: these NPQs are funded only for a setting on DfE's lists (DfE's "only PP50").
TARGETED_2025 = ("NPQLTD", "NPQLT", "NPQLBC", "NPQLL", "NPQSL", "NPQEL")


def _rules_2025() -> tuple[dict[str, Any], ...]:
    # DfE judged a school's nursery (a nursery school or a pre-school class) as the school it is,
    # for every NPQ, and NPQEYL anywhere by its own disadvantaged early years list.
    schools = (*SCHOOL_SETTINGS, *SCHOOL_NURSERIES)
    return (
        *_ehco_rules_with_npqh_and_school(),
        *_other_setting_rules(),
        rule("workplace_not_listed", setting=schools, workplace_not_listed=True),
        rule(
            "funded",
            setting=schools,
            establishment_type_code=[LA_NURSERY_SCHOOL],
            on_list=["la_disadvantaged_nursery"],
        ),
        rule("funded", setting=schools, course=["NPQEYL"], on_list=["disadvantaged_early_years"]),
        rule("ineligible_establishment_not_on_list", setting=schools, course=["NPQEYL"]),
        rule(
            "ineligible_establishment_not_on_list",
            setting=[s for s in schools if s != "16_to_19"],
            course=TARGETED_2025,
            not_on_list=["pp50_school"],
        ),
        rule(
            "ineligible_establishment_not_on_list",
            setting=["16_to_19"],
            course=TARGETED_2025,
            not_on_list=["pp50_fe"],
        ),
        rule("ineligible_establishment_type", setting=schools, eligible_type=False),
        rule("funded", setting=schools),
        # Private nurseries, childminders and other early years settings: NPQEYL only.
        rule("early_years_invalid_npq", setting=EARLY_YEARS_SETTINGS, not_course=["NPQEYL"]),
        rule("funded", setting=["childminder"], on_list=["childminder"]),
        rule("not_entitled_childminder", setting=["childminder"]),
        rule("funded", setting=PRIVATE_EARLY_YEARS, on_list=["disadvantaged_early_years"]),
        rule("ineligible_establishment_not_on_list", setting=PRIVATE_EARLY_YEARS),
        # Another setting: no NPQ is funded outright (DfE found no establishment to fund);
        # NPQH, NPQSL and NPQSENCO go to the hub's review.
        *_lead_mentor_rules(),
        rule(
            "subject_to_review",
            setting=["another_setting"],
            employment_type=SPECIAL_EMPLOYMENT,
            course=REVIEW_NPQS_2025,
        ),
    )


# August 2025 to May 2026: NPQLPM joins the targeted NPQs, and so does NPQEYL in a school.
TARGETED_2025_26 = (*TARGETED_2025, "NPQLPM", "NPQEYL")
# June 2026 on: NPQSL and NPQEYL are funded at every state-funded school again.
TARGETED_2026 = ("NPQLPM", "NPQLBC", "NPQLL", "NPQLT", "NPQLTD", "NPQEL")


def _school_rules_from_2025_26(targeted: tuple[str, ...]) -> list[dict[str, Any]]:
    """Schools, academy trusts and 16 to 19 settings: a RISE school is funded for every NPQ;
    otherwise a state-funded establishment, with the targeted NPQs only on the PP50 lists."""
    not_fe = ["school", "academy_trust"]
    return [
        rule("workplace_not_listed", setting=SCHOOL_SETTINGS, workplace_not_listed=True),
        rule("funded", setting=SCHOOL_SETTINGS, on_list=["rise"]),
        rule("ineligible_establishment_type", setting=SCHOOL_SETTINGS, eligible_type=False),
        rule("funded", setting=not_fe, course=targeted, on_list=["pp50_school"]),
        rule("funded", setting=["16_to_19"], course=targeted, on_list=["pp50_fe"]),
        rule("ineligible_establishment_not_on_list", setting=SCHOOL_SETTINGS, course=targeted),
        rule("funded", setting=SCHOOL_SETTINGS),
    ]


def _another_setting_rules(review_courses: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        *_lead_mentor_rules(),
        rule(
            "subject_to_review",
            setting=["another_setting"],
            employment_type=SPECIAL_EMPLOYMENT,
            course=review_courses,
        ),
        rule("ineligible_establishment_type", setting=["another_setting"]),
    ]


def _rules_2025_26() -> tuple[dict[str, Any], ...]:
    la_nursery = ["local_authority_maintained_nursery"]
    listed_ey = [
        "preschool_class_as_part_of_school",
        "private_nursery",
        "another_early_years_setting",
        "early_years",
    ]
    return (
        *_ehco_rules_any_setting(),
        *_school_rules_from_2025_26(TARGETED_2025_26),
        # A local authority nursery school: NPQSENCO, NPQH and NPQEYL, when on DfE's LA nursery list.
        rule("early_years_invalid_npq", setting=la_nursery, not_course=["NPQSENCO", "NPQH", "NPQEYL"]),
        rule("workplace_not_listed", setting=la_nursery, workplace_not_listed=True),
        rule("funded", setting=la_nursery, on_list=["la_disadvantaged_nursery"]),
        rule("ineligible_establishment_type", setting=la_nursery),
        # Other early years settings: NPQEYL only, for a childminder or setting on DfE's lists.
        rule("early_years_invalid_npq", setting=EARLY_YEARS_SETTINGS, not_course=["NPQEYL"]),
        rule("funded", setting=["childminder"], on_list=["childminder"]),
        rule("not_entitled_childminder", setting=["childminder"]),
        rule(
            "workplace_not_listed", setting=["preschool_class_as_part_of_school"], workplace_not_listed=True
        ),
        rule("funded", setting=listed_ey, on_list=["disadvantaged_early_years"]),
        rule("ineligible_establishment_not_on_list", setting=listed_ey),
        *_another_setting_rules(("NPQSENCO", "NPQH")),
        *_other_setting_rules(),
    )


def _rules_2026() -> tuple[dict[str, Any], ...]:
    la_nursery = ["local_authority_maintained_nursery"]
    return (
        *_ehco_rules_any_setting(),
        *_school_rules_from_2025_26(TARGETED_2026),
        # Early years: NPQEYL for every setting (a childminder on DfE's list); a local authority
        # nursery school also NPQSENCO, NPQH and NPQSL.
        rule(
            "early_years_invalid_npq", setting=la_nursery, not_course=["NPQSENCO", "NPQH", "NPQSL", "NPQEYL"]
        ),
        rule(
            "early_years_invalid_npq",
            setting=EARLY_YEARS_SETTINGS,
            not_setting=la_nursery,
            not_course=["NPQEYL"],
        ),
        rule("funded", setting=["childminder"], on_list=["childminder"]),
        rule("not_entitled_childminder", setting=["childminder"]),
        rule("workplace_not_listed", setting=SCHOOL_NURSERIES, workplace_not_listed=True),
        rule("funded", setting=EARLY_YEARS_SETTINGS),
        *_another_setting_rules(("NPQH", "NPQSENCO", "NPQSL")),
        *_other_setting_rules(),
    )


DEFAULT_ROUNDS: dict[str, RoundRules] = {
    # Universal funding; £200 targeted support funding for settings with 1-600 pupils.
    "2022-23": RoundRules(code="2022-23", rules=_rules_2022_23(), targeted_support_funding_gbp=200),
    # Targeted scholarships from spring 2025 (DfE's rules of that spring).
    "2025": RoundRules(code="2025", rules=_rules_2025()),
    # DfE's rules from August 2025 to May 2026: RISE schools, LA nursery list, EHCO anywhere.
    "2025-26": RoundRules(code="2025-26", rules=_rules_2025_26()),
    # DfE's rules for cohorts from June 2026.
    "2026": RoundRules(code="2026", rules=_rules_2026()),
}
ROUND_NAMES = {
    "2022-23": "2022-23 (universal funding)",
    "2025": "2025 (targeted scholarships, from spring 2025)",
    "2025-26": "2025-26 (targeted scholarships, August 2025 to May 2026)",
    "2026": "2026 (cohorts from June 2026)",
}


class RulesError(ValueError):
    """A round's rules that the engine cannot read, in words."""


def check_rules(
    rules: Any, *, reasons: tuple[str, ...], lists: tuple[str, ...]
) -> tuple[dict[str, Any], ...]:
    """The rule table, validated: each rule an object with known conditions of the right kind and
    a known reason. Refusing here means a bad edit never reaches a decision."""
    if not isinstance(rules, list | tuple):
        raise RulesError("the rules must be a list")
    allowed_values = {
        "course": ALL_COURSES,
        "setting": SETTINGS,
        "employment_type": (*SPECIAL_EMPLOYMENT, LEAD_MENTOR, "other"),
        "npqh_status": ("completed", "in_progress", "will_start", "none"),
        "on_list": lists,
    }
    checked = []
    for number, row in enumerate(rules, start=1):
        where = f"rule {number}"
        if not isinstance(row, dict) or set(row) != {"if", "then"} or not isinstance(row["if"], dict):
            raise RulesError(f'{where} must have exactly "if" (conditions) and "then" (a reason)')
        if row["then"] not in reasons:
            raise RulesError(f"{where}: {row['then']!r} is not a reason code")
        for name, value in row["if"].items():
            base = name.removeprefix("not_") if name.removeprefix("not_") in NEGATABLE else name
            kind = CONDITIONS.get(base)
            if kind is None:
                raise RulesError(f"{where}: {name!r} is not a condition")
            if kind == "bool":
                if not isinstance(value, bool):
                    raise RulesError(f"{where}: {name!r} must be true or false")
                continue
            if not isinstance(value, list) or not value:
                raise RulesError(f"{where}: {name!r} must be a list of one or more values")
            if kind == "codes":
                if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                    raise RulesError(f"{where}: {name!r} must be establishment type codes (numbers)")
                continue
            unknown = [v for v in value if v not in allowed_values[base]]
            if unknown:
                raise RulesError(f"{where}: {unknown[0]!r} is not a known value of {base!r}")
        checked.append({"if": dict(row["if"]), "then": row["then"]})
    return tuple(checked)
