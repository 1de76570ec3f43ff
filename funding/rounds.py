"""The rules of each funding round, as data (docs/domain.md, "Funding eligibility").

These are the defaults shipped with the portal. Each round is also a ``FundingRound`` row whose
fields hub staff can edit in admin; ``FundingRound.rules()`` builds a ``RoundRules`` from it.
``manage.py assess_funding`` uses these defaults so that it needs no database rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

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
OUTSIDE_ENGLAND_TYPE_CODES = (30,)  # Welsh establishments

# Staff of these settings (work setting "another_setting") are funded like school staff for the
# round's open courses; DfE refers some of them to review for some courses.
SPECIAL_SETTING_EMPLOYMENT = (
    "hospital_school",
    "young_offender_institution",
    "local_authority_virtual_school",
)


@dataclass(frozen=True)
class RoundRules:
    code: str
    # Courses funded for every eligible setting.
    open_courses: tuple[str, ...]
    # Courses funded only where the setting is on one of these lists, by work setting.
    targeted_courses: tuple[str, ...] = ()
    targeted_list_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    eligible_type_codes: tuple[int, ...] = STATE_FUNDED_TYPE_CODES
    outside_england_la_codes: tuple[str, ...] = OUTSIDE_ENGLAND_LA_CODES
    outside_england_type_codes: tuple[int, ...] = OUTSIDE_ENGLAND_TYPE_CODES
    # Employment types of "another setting" funded for the open courses.
    funded_employment_types: tuple[str, ...] = SPECIAL_SETTING_EMPLOYMENT
    # Employment types and courses that DfE refers to manual review rather than yes/no.
    review_employment_types: tuple[str, ...] = (
        *SPECIAL_SETTING_EMPLOYMENT,
        "local_authority_supply_teacher",
    )
    review_courses: tuple[str, ...] = ("NPQH", "NPQSL", "NPQSENCO")
    lead_mentor_courses: tuple[str, ...] = ("NPQLTD",)
    early_years_courses: tuple[str, ...] = ("NPQEYL",)
    # Private and other early years settings: funded when on one of these lists (empty: always).
    early_years_list_kinds: tuple[str, ...] = ()
    childminder_list_kinds: tuple[str, ...] = ("childminder",)
    ehco_max_years_as_headteacher: int = 5
    targeted_support_funding_gbp: int = 0
    targeted_support_max_pupils: int = 600

    def as_json(self) -> dict:
        return asdict(self)


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

DEFAULT_ROUNDS: dict[str, RoundRules] = {
    # Universal funding; £200 targeted support funding for settings with 1-600 pupils.
    "2022-23": RoundRules(
        code="2022-23",
        open_courses=ALL_NPQS,
        targeted_support_funding_gbp=200,
    ),
    # Targeted scholarships from spring 2025.
    "2025": RoundRules(
        code="2025",
        open_courses=("NPQLPM", "NPQSENCO", "NPQH"),
        targeted_courses=("NPQLTD", "NPQLT", "NPQLBC", "NPQLL", "NPQSL", "NPQEL", "NPQEYL"),
        targeted_list_kinds={
            "school": ("pp50_school", "rise"),
            "academy_trust": ("pp50_school", "rise"),
            "16_to_19": ("pp50_fe",),
            "early_years": ("disadvantaged_early_years", "pp50_school"),
        },
        funded_employment_types=(*SPECIAL_SETTING_EMPLOYMENT, "local_authority_supply_teacher"),
        early_years_list_kinds=("disadvantaged_early_years",),
    ),
}
