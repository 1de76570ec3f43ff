"""The whole funding decision table: it reaches every reason code in both rounds, and
``manage.py assess_funding`` decides it the same, from a file or standard input, without a database."""

import json
import subprocess
import sys

import pytest

from funding.eligibility import ALL_REASONS, Reason
from tests.conftest import ROOT
from tests.funding_eligibility_support import EHCO
from tests.test_funding_eligibility_early_years import TABLE as EARLY_YEARS
from tests.test_funding_eligibility_other_settings import TABLE as OTHER_SETTINGS
from tests.test_funding_eligibility_schools import TABLE as SCHOOLS

# Every row of the decision table: schools, early years and other settings.
TABLE = [*SCHOOLS, *EARLY_YEARS, *OTHER_SETTINGS]


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
