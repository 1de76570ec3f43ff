"""The funding rules as a decision table, in both rounds, in DfE's order: the order of the checks,
EHCO, schools, academy trusts and 16 to 19 settings, and a workplace not found in GIAS."""

import pytest

from funding.eligibility import decide, parse_facts
from tests.funding_eligibility_support import EHCO, SCHOOL

# (round, facts, expected reason, funded, subject to review, targeted support funding)
TABLE = [
    # -- order of checks: each earlier check wins over every later one
    (
        "2022-23",
        {**SCHOOL, "course": "NPQLT", "cohort_funding": "zero", "in_england": False},
        "unfunded_cohort",
        False,
        False,
        0,
    ),
    ("2025", {**SCHOOL, "course": "NPQH", "cohort_funding": "zero"}, "unfunded_cohort", False, False, 0),
    (
        "2022-23",
        {
            **SCHOOL,
            "course": "NPQLT",
            "in_england": False,
            "previous_funded_places": [{"course": "NPQLT", "status": "failed"}],
        },
        "not_in_england",
        False,
        False,
        0,
    ),
    ("2025", {"course": "NPQH"}, "not_in_england", False, False, 0),  # absent facts mean "no"
    ("2025", {**SCHOOL, "course": "NPQH", "la_code": "673"}, "not_in_england", False, False, 0),
    (  # a Welsh school: an ineligible type (DfE asks the person whether they work in England)
        "2022-23",
        {**SCHOOL, "course": "NPQSL", "establishment_type_code": 30, "la_code": "660"},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2022-23",
        {**SCHOOL, "course": "NPQLT", "previous_funded_places": [{"course": "NPQLT", "status": "withdrawn"}]},
        "previously_funded",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**SCHOOL, "course": "NPQH", "previous_funded_places": [{"course": "NPQH", "status": "failed"}]},
        "previously_funded",
        False,
        False,
        0,
    ),
    (
        "2025",
        {
            **EHCO,
            "withdrew_from_ehco_before": True,
            "previous_funded_places": [{"course": "EHCO", "status": "withdrawn"}],
        },
        "previously_funded",
        False,
        False,
        0,
    ),
    # another NPQ's funded place does not count
    (
        "2025",
        {**SCHOOL, "course": "NPQH", "previous_funded_places": [{"course": "NPQSL", "status": "failed"}]},
        "funded",
        True,
        False,
        0,
    ),
    # -- EHCO, in both rounds
    ("2025", EHCO, "funded_ehco", True, False, 0),
    (
        "2022-23",
        {**EHCO, "npqh_status": "in_progress", "years_as_headteacher": 5},
        "funded_ehco",
        True,
        False,
        0,
    ),
    ("2025", {**EHCO, "years_as_headteacher": 6}, "not_new_headteacher_requesting_ehco", False, False, 0),
    ("2022-23", {**EHCO, "headteacher": False}, "not_new_headteacher_requesting_ehco", False, False, 0),
    ("2025", {**EHCO, "npqh_status": "none"}, "ehco_no_npqh", False, False, 0),
    ("2022-23", {**EHCO, "npqh_status": "none"}, "ehco_no_npqh", False, False, 0),
    ("2025", {**EHCO, "withdrew_from_ehco_before": True}, "ehco_previously_withdrawn", False, False, 0),
    ("2022-23", {**EHCO, "withdrew_from_ehco_before": True}, "ehco_previously_withdrawn", False, False, 0),
    ("2025", {**EHCO, "establishment_type_code": 11}, "ineligible_establishment_type", False, False, 0),
    # -- schools, academy trusts and 16-19, round 2022-23 (universal, targeted support funding)
    ("2022-23", {**SCHOOL, "course": "NPQLT", "number_of_pupils": 350}, "funded", True, False, 200),
    ("2022-23", {**SCHOOL, "course": "NPQSL", "number_of_pupils": 600}, "funded", True, False, 200),
    ("2022-23", {**SCHOOL, "course": "NPQSL", "number_of_pupils": 601}, "funded", True, False, 0),
    ("2022-23", {**SCHOOL, "course": "NPQSL", "number_of_pupils": 1}, "funded", True, False, 200),
    ("2022-23", {**SCHOOL, "course": "NPQSL", "number_of_pupils": 0}, "funded", True, False, 0),
    ("2022-23", {**SCHOOL, "course": "NPQSL"}, "funded", True, False, 0),  # pupils unknown
    (
        "2022-23",
        {
            **SCHOOL,
            "work_setting": "16_to_19",
            "establishment_type_code": 18,
            "course": "NPQLL",
            "number_of_pupils": 120,
        },
        "funded",
        True,
        False,
        200,
    ),
    (
        "2022-23",
        {**SCHOOL, "work_setting": "academy_trust", "course": "NPQEL", "number_of_pupils": 900},
        "funded",
        True,
        False,
        0,
    ),
    (
        "2022-23",
        {**SCHOOL, "course": "NPQLT", "establishment_type_code": 11},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2022-23",
        {**SCHOOL, "course": "NPQLT", "establishment_type_code": None},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    # -- schools, round 2025 (targeted courses need a list; open courses do not; no TSF)
    (
        "2025",
        {**SCHOOL, "course": "NPQLT", "eligibility_lists": ["pp50_school"], "number_of_pupils": 350},
        "funded",
        True,
        False,
        0,
    ),
    # DfE's spring-2025 rules had no RISE list (it came with the 2025-26 round)
    (
        "2025",
        {**SCHOOL, "course": "NPQSL", "eligibility_lists": ["rise"]},
        "ineligible_establishment_not_on_list",
        False,
        False,
        0,
    ),
    ("2025", {**SCHOOL, "course": "NPQLT"}, "ineligible_establishment_not_on_list", False, False, 0),
    (
        "2025",
        {**SCHOOL, "course": "NPQEL", "eligibility_lists": ["pp50_fe"]},
        "ineligible_establishment_not_on_list",
        False,
        False,
        0,
    ),
    (
        "2025",
        {
            **SCHOOL,
            "work_setting": "16_to_19",
            "establishment_type_code": 18,
            "course": "NPQLBC",
            "eligibility_lists": ["pp50_fe"],
        },
        "funded",
        True,
        False,
        0,
    ),
    ("2025", {**SCHOOL, "course": "NPQLPM"}, "funded", True, False, 0),
    ("2025", {**SCHOOL, "course": "NPQSENCO"}, "funded", True, False, 0),
    (
        "2025",
        {**SCHOOL, "course": "NPQH", "establishment_type_code": 25},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**SCHOOL, "course": "NPQLT", "establishment_type_code": 11, "eligibility_lists": ["pp50_school"]},
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    # -- a school or college the applicant could not find in GIAS: staff check it by hand
    (
        "2022-23",
        {"in_england": True, "work_setting": "school", "workplace_not_listed": True, "course": "NPQLT"},
        "workplace_not_listed",
        False,
        True,
        0,
    ),
    (
        "2025",
        {"in_england": True, "work_setting": "16_to_19", "workplace_not_listed": True, "course": "NPQH"},
        "workplace_not_listed",
        False,
        True,
        0,
    ),
    (
        "2025",
        {
            "in_england": True,
            "work_setting": "early_years",
            "kind_of_nursery": "local_authority_maintained_nursery",
            "workplace_not_listed": True,
            "course": "NPQEYL",
        },
        "workplace_not_listed",
        False,
        True,
        0,
    ),
    (  # EHCO's own rules still come first
        "2025",
        {
            **EHCO,
            "establishment_type_code": None,
            "la_code": None,
            "workplace_not_listed": True,
            "npqh_status": "none",
        },
        "ehco_no_npqh",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**EHCO, "establishment_type_code": None, "la_code": None, "workplace_not_listed": True},
        "workplace_not_listed",
        False,
        True,
        0,
    ),
    (  # outside England (the answer to "Do you work in England?") still wins
        "2025",
        {"in_england": False, "work_setting": "school", "workplace_not_listed": True, "course": "NPQH"},
        "not_in_england",
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
