"""The funding rules as a decision table: every reason code, in both rounds, in DfE's order."""

import json
import subprocess
import sys

import pytest

from funding.eligibility import ALL_REASONS, Reason, decide, parse_facts
from tests.conftest import ROOT

SCHOOL = {"in_england": True, "work_setting": "school", "establishment_type_code": 28, "la_code": "886"}
EY = {"in_england": True, "work_setting": "early_years"}
OTHER = {"in_england": True, "work_setting": "another_setting"}
EHCO = {
    **SCHOOL,
    "course": "EHCO",
    "headteacher": True,
    "years_as_headteacher": 2,
    "npqh_status": "completed",
}

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


def test_the_table_reaches_every_automatic_reason_in_both_rounds():
    automatic = set(ALL_REASONS) - {Reason.MARKED_FUNDED_BY_POLICY, Reason.MARKED_INELIGIBLE_BY_POLICY}
    for round_code in ("2022-23", "2025"):
        reached = {row[2] for row in TABLE if row[0] == round_code}
        # funded_lead_mentor etc. are reached in both; a few codes only make sense in some rounds
        # (return-to-teaching referrals: tests/test_funding_scenarios.py for the later rounds).
        only_other_round = {
            "2022-23": {"ineligible_establishment_not_on_list", "referred_by_return_to_teaching_adviser"},
            "2025": {"referred_by_return_to_teaching_adviser"},
        }[round_code]
        assert automatic - reached == only_other_round, round_code


def run_command(stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "assess_funding", *(args or ("-",))],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_assess_funding_command_prints_decisions_in_order(tmp_path):
    facts = [{"round": r, **f} for r, f, *_ in TABLE]
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    result = run_command("", str(path))
    assert result.returncode == 0, result.stderr
    decisions = json.loads(result.stdout)
    assert [d["reason"] for d in decisions] == [row[2] for row in TABLE]
    # Standard input works the same.
    assert json.loads(run_command(json.dumps(facts)).stdout) == decisions


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('[{"round": "2025", "course": "NPQH"}, {"round": "2025"}]', "item 1: field 'course': is required"),
        ('[{"round": "2024", "course": "NPQH"}]', "item 0: field 'round': must be one of 2022-23, 2025"),
        (
            '[{"round": "2025", "course": "NPQH", "in_england": "yes"}]',
            "item 0: field 'in_england': must be true or false",
        ),
        (
            '[{"round": "2025", "course": "NPQH", "in_englnd": true}]',
            "item 0: field 'in_englnd': is not a known fact",
        ),
        ('[{"round": "2025", "course": "NPQH", "number_of_pupils": -3}]', "item 0: field 'number_of_pupils'"),
        (
            '[{"round": "2025", "course": "NPQH", "previous_funded_places": [{"course": "NPQH"}]}]',
            "item 0: field 'previous_funded_places[0]'",
        ),
        (
            '[{"round": "2025", "course": "NPQH", "eligibility_lists": ["pp99"]}]',
            "item 0: field 'eligibility_lists'",
        ),
        (
            '[{"round": "2026", "course": "EHCO", "npqh_status": "soon"}]',
            "item 0: field 'npqh_status': must be one of completed, in_progress, will_start, none",
        ),
        (
            '[{"round": "2026", "course": "NPQH", "referred_by_return_to_teaching_adviser": "yes"}]',
            "item 0: field 'referred_by_return_to_teaching_adviser': must be true or false",
        ),
        (
            '[{"round": "2025-26", "course": "NPQH", "eligibility_lists": ["la_nursery"]}]',
            "item 0: field 'eligibility_lists'",
        ),
        ('{"round": "2025"}', "input must be a JSON list"),
        ('[{"round": "2025",', "input is not valid JSON"),
        ('["NPQH"]', "item 0: field '(item)': must be a JSON object"),
    ],
)
def test_malformed_input_exits_2_names_item_and_field_and_prints_nothing(payload, message):
    result = run_command(payload)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_the_new_facts_are_optional_and_old_inputs_still_read():
    # An input written before the 2025-26 and 2026 rounds: no new keys, same decisions.
    old = [{"round": r, **f} for r, f, *_ in TABLE]
    result = run_command(json.dumps(old))
    assert result.returncode == 0, result.stderr
    assert [d["reason"] for d in json.loads(result.stdout)] == [row[2] for row in TABLE]
    new = [
        {"round": "2026", "course": "NPQH", "in_england": True, "work_setting": "other"},
        {
            "round": "2026",
            "course": "NPQH",
            "in_england": True,
            "work_setting": "other",
            "referred_by_return_to_teaching_adviser": True,
        },
        {**EHCO, "round": "2025-26", "work_setting": "early_years", "npqh_status": "will_start"},
        {
            "round": "2025-26",
            "course": "NPQSENCO",
            "in_england": True,
            "work_setting": "early_years",
            "kind_of_nursery": "local_authority_maintained_nursery",
            "establishment_type_code": 15,
            "eligibility_lists": ["la_disadvantaged_nursery"],
        },
    ]
    decisions = json.loads(run_command(json.dumps(new)).stdout)
    assert [(d["funded"], d["reason"], d["subject_to_review"]) for d in decisions] == [
        (False, "ineligible_establishment_type", False),
        (False, "referred_by_return_to_teaching_adviser", True),
        (True, "funded_ehco", False),
        (True, "funded", False),
    ]


def test_assess_funding_needs_no_database(tmp_path):
    # A database file that does not exist: the command must not open it.
    result = subprocess.run(
        [sys.executable, "manage.py", "assess_funding", "-"],
        cwd=ROOT,
        input='[{"round": "2025", "course": "NPQH", "in_england": true, "work_setting": "school", '
        '"establishment_type_code": 1}]',
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_ENV": "local",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        },
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["reason"] == "funded"
