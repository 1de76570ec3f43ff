"""The funding rules as a decision table, in both rounds, in DfE's order: another setting
(hospital schools, young offender institutions, supply teachers, lead mentors) and none."""

import pytest

from funding.eligibility import decide, parse_facts
from tests.funding_eligibility_support import OTHER

# (round, facts, expected reason, funded, subject to review, targeted support funding)
TABLE = [
    # -- another setting
    (
        "2022-23",
        {
            **OTHER,
            "course": "NPQLTD",
            "employment_type": "lead_mentor_for_accredited_itt_provider",
            "approved_itt_provider": True,
        },
        "funded_lead_mentor",
        True,
        False,
        0,
    ),
    (
        "2025",
        {
            **OTHER,
            "course": "NPQLTD",
            "employment_type": "lead_mentor_for_accredited_itt_provider",
            "approved_itt_provider": True,
        },
        "funded_lead_mentor",
        True,
        False,
        0,
    ),
    (
        "2025",
        {
            **OTHER,
            "course": "NPQLT",
            "employment_type": "lead_mentor_for_accredited_itt_provider",
            "approved_itt_provider": True,
        },
        "not_lead_mentor_course",
        False,
        False,
        0,
    ),
    (
        "2022-23",
        {**OTHER, "course": "NPQSL", "employment_type": "lead_mentor_for_accredited_itt_provider"},
        "not_lead_mentor_course",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**OTHER, "course": "NPQLTD", "employment_type": "lead_mentor_for_accredited_itt_provider"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**OTHER, "course": "NPQH", "employment_type": "hospital_school"},
        "subject_to_review",
        False,
        True,
        0,
    ),
    (
        "2022-23",
        {**OTHER, "course": "NPQSENCO", "employment_type": "young_offender_institution"},
        "subject_to_review",
        False,
        True,
        0,
    ),
    (
        "2025",
        {**OTHER, "course": "NPQSL", "employment_type": "local_authority_supply_teacher"},
        "subject_to_review",
        False,
        True,
        0,
    ),
    # DfE's spring-2025 service funded no NPQ outright for these roles (no establishment)
    (
        "2025",
        {**OTHER, "course": "NPQLPM", "employment_type": "local_authority_virtual_school"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**OTHER, "course": "NPQLPM", "employment_type": "hospital_school"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    ("2022-23", {**OTHER, "course": "NPQLT", "employment_type": "hospital_school"}, "funded", True, False, 0),
    (
        "2022-23",
        {**OTHER, "course": "NPQLT", "employment_type": "local_authority_supply_teacher"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**OTHER, "course": "NPQLT", "employment_type": "hospital_school"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**OTHER, "course": "NPQLT", "employment_type": "other"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2022-23",
        {"in_england": True, "work_setting": "other", "course": "NPQLT"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
]


@pytest.mark.parametrize(("round_code", "facts", "reason", "funded", "review", "tsf"), TABLE)
def test_decision_table(round_code, facts, reason, funded, review, tsf):
    decision = decide(parse_facts({"round": round_code, **facts}))
    assert decision.as_json() == {
        "funded": funded,
        "reason": reason,
        "subject_to_review": review,
        "targeted_support_funding_gbp": tsf,
    }
