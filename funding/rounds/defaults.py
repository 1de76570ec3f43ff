"""The rule tables of each round shipped with the portal, and the rounds' names."""

from __future__ import annotations

from typing import Any

from .conditions import (
    EARLY_YEARS_SETTINGS,
    LA_NURSERY_SCHOOL,
    LEAD_MENTOR,
    PRIVATE_EARLY_YEARS,
    SCHOOL_NURSERIES,
    SCHOOL_SETTINGS,
    SPECIAL_EMPLOYMENT,
    RoundRules,
    rule,
)

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
