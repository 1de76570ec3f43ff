"""What a round's rules are made of: the courses, settings and codes they name, the conditions a
rule may set, a round's ``RoundRules``, and the check a rule table must pass to be used."""

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
