"""The funding rules as a decision table, in both rounds, in DfE's order: early years settings."""

import pytest

from funding.eligibility import decide, parse_facts
from tests.funding_eligibility_support import EY

# (round, facts, expected reason, funded, subject to review, targeted support funding)
TABLE = [
    # -- early years
    (
        "2022-23",
        {**EY, "course": "NPQLT", "kind_of_nursery": "private_nursery"},
        "early_years_invalid_npq",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**EY, "course": "NPQSENCO", "kind_of_nursery": "private_nursery"},
        "early_years_invalid_npq",
        False,
        False,
        0,
    ),
    ("2022-23", {**EY, "course": "NPQEYL", "kind_of_nursery": "private_nursery"}, "funded", True, False, 0),
    (
        "2025",
        {**EY, "course": "NPQEYL", "kind_of_nursery": "private_nursery"},
        "ineligible_establishment_not_on_list",
        False,
        False,
        0,
    ),
    (
        "2025",
        {
            **EY,
            "course": "NPQEYL",
            "kind_of_nursery": "private_nursery",
            "eligibility_lists": ["disadvantaged_early_years"],
        },
        "funded",
        True,
        False,
        0,
    ),
    (
        "2022-23",
        {**EY, "course": "NPQEYL", "kind_of_nursery": "childminder"},
        "not_entitled_childminder",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**EY, "course": "NPQEYL", "kind_of_nursery": "childminder"},
        "not_entitled_childminder",
        False,
        False,
        0,
    ),
    (
        "2025",
        {**EY, "course": "NPQEYL", "kind_of_nursery": "childminder", "eligibility_lists": ["childminder"]},
        "funded",
        True,
        False,
        0,
    ),
    (
        "2022-23",
        {
            **EY,
            "course": "NPQEYL",
            "kind_of_nursery": "local_authority_maintained_nursery",
            "establishment_type_code": 15,
        },
        "funded",
        True,
        False,
        0,
    ),
    (
        "2025",
        {
            **EY,
            "course": "NPQEYL",
            "kind_of_nursery": "local_authority_maintained_nursery",
            "establishment_type_code": 15,
        },
        "ineligible_establishment_not_on_list",
        False,
        False,
        0,
    ),
    # NPQEYL in a school's own nursery class: DfE's disadvantaged early years list, not PP50
    (
        "2025",
        {
            **EY,
            "course": "NPQEYL",
            "kind_of_nursery": "preschool_class_as_part_of_school",
            "establishment_type_code": 1,
            "eligibility_lists": ["pp50_school"],
        },
        "ineligible_establishment_not_on_list",
        False,
        False,
        0,
    ),
    (
        "2025",
        {
            **EY,
            "course": "NPQEYL",
            "kind_of_nursery": "preschool_class_as_part_of_school",
            "establishment_type_code": 1,
            "eligibility_lists": ["disadvantaged_early_years"],
        },
        "funded",
        True,
        False,
        0,
    ),
    (
        "2025",
        {
            **EY,
            "course": "NPQLT",
            "kind_of_nursery": "preschool_class_as_part_of_school",
            "establishment_type_code": 11,
            "eligibility_lists": ["pp50_school"],
        },
        "ineligible_establishment_type",
        False,
        False,
        0,
    ),
    ("2022-23", {**EY, "course": "NPQEYL"}, "ineligible_establishment_type", False, False, 0),
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
