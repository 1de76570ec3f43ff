"""DfE's funding scenarios, round by round, decided by the portal's engine.

The data (tests/data/funding_scenarios/<round>.json) is our own translation of the scenario tables
in DfE's registration service, DFE-Digital/npq-registration (each file names the source file and
commit it was read from). A table gives DfE's status code per NPQ for one set of facts; DfE's
"general rules" (cohort unfunded, outside England, funded before) and its two EHCO cases are
applied to every table as DfE's spec does. DfE's codes are mapped to the portal's reasons below;
a case may record where the portal's reason differs (``portal``, with ``why``), but never whether
it is funded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from funding.eligibility import decide, parse_facts
from funding.rounds import ALL_NPQS

DATA = Path(__file__).parent / "data" / "funding_scenarios"
ROUNDS = ("2022-23", "2025", "2025-26", "2026")

# DfE's status code -> the portal's reason (the same where DfE's code is the portal's).
DFE_TO_PORTAL = {
    "ineligible_establishment_not_a_pp50": "ineligible_establishment_not_on_list",
    "not_entitled_ey_institution": "ineligible_establishment_not_on_list",
    "ineligible_institution_type": "ineligible_establishment_type",
    "no_institution": "ineligible_establishment_type",
    "not_new_headteacher_requesting_aso": "not_new_headteacher_requesting_ehco",  # EHCO's earlier name
    "early_years_outside_catchment": "not_in_england",
}
DFE_FUNDED = {"funded"}
DFE_REVIEW = {"subject_to_review", "referred_by_return_to_teaching_adviser"}
NEW_HEADTEACHER = {"headteacher": True, "years_as_headteacher": 2, "npqh_status": "completed"}
NOT_A_HEADTEACHER = {"headteacher": False}


def portal_reason(dfe: str, facts: dict[str, Any]) -> str:
    if dfe == "funded":
        if facts["course"] == "EHCO":
            return "funded_ehco"
        if facts.get("employment_type") == "lead_mentor_for_accredited_itt_provider":
            return "funded_lead_mentor"
    return DFE_TO_PORTAL.get(dfe, dfe)


def _course_results(table: dict[str, Any]) -> dict[str, str]:
    expect = table["expect"]
    courses = list(ALL_NPQS) + (["EHCO"] if table.get("courses") == "all with EHCO" else [])
    if isinstance(expect, str):  # "all <code>"
        return dict.fromkeys(courses, expect.removeprefix("all "))
    if "*" in expect:
        return {course: expect.get(course, expect["*"]) for course in courses}
    return dict(expect)


def _with_general_checks(
    name: str, facts: dict[str, Any], dfe: str, checks: list[str]
) -> list[tuple[str, dict, str, str | None]]:
    """The case itself, then DfE's general rules applied to it (each wins over the table)."""
    cases = [(name, facts, dfe, None)]
    variants = {
        "unfunded_cohort": {"cohort_funding": "zero"},
        "not_in_england": {"in_england": False},
        "previously_funded": {"previous_funded_places": [{"course": facts["course"], "status": "passed"}]},
    }
    for check in checks:
        cases.append((f"{name}, {check}", {**facts, **variants[check]}, check, None))
    return cases


def scenarios(round_code: str) -> list[tuple[str, dict[str, Any], str, str | None]]:
    """(name, facts, DfE's code, the portal's reason where it differs) for every case of a round."""
    data = json.loads((DATA / f"{round_code}.json").read_text())
    assert data["round"] == round_code and data["source"]["commit"]
    checks = data["general_checks"]
    found = []
    for table in data["tables"]:
        base = {"round": round_code, "in_england": True, "cohort_funding": "full", **table["facts"]}
        for course, dfe in _course_results(table).items():
            found += _with_general_checks(
                f"{table['name']}: {course}", {**base, "course": course}, dfe, checks
            )
        if data["ehco"]:
            ehco = {**base, "course": "EHCO"}
            found += _with_general_checks(
                f"{table['name']}: EHCO, not a new headteacher",
                {**ehco, **NOT_A_HEADTEACHER},
                "not_new_headteacher_requesting_ehco",
                checks,
            )
            found += _with_general_checks(
                f"{table['name']}: EHCO, new headteacher", {**ehco, **NEW_HEADTEACHER}, "funded", checks
            )
    for case in data.get("cases", []):
        facts = {"round": round_code, "in_england": True, "cohort_funding": "full", **case["facts"]}
        found.append((case["name"], facts, case["expect"], case.get("portal")))
    return found


CASES = [(round_code, *case) for round_code in ROUNDS for case in scenarios(round_code)]


@pytest.mark.parametrize(
    ("round_code", "name", "facts", "dfe", "portal"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES]
)
def test_the_portal_decides_as_dfe(round_code, name, facts, dfe, portal):
    decision = decide(parse_facts(facts))
    assert decision.funded is (dfe in DFE_FUNDED)
    assert decision.reason == (portal or portal_reason(dfe, facts))
    if portal is None:
        assert decision.subject_to_review is (dfe in DFE_REVIEW)


def table_2026() -> list[tuple[str, dict[str, Any], str, str | None]]:
    """DfE's scenario table for round 2026 (2026-table.json), every row: (name, facts, DfE's
    expected value, the portal's answer where DfE's own sources disagree)."""
    data = json.loads((DATA / "2026-table.json").read_text())
    grid_lists = data["lists_on_the_grid_rows"]
    conflicts = {(c["setting"], c["course"]): c["portal"] for c in data["conflicts"]}
    rows = []
    for cohort, funding in data["cohorts"].items():
        for in_england in (True, False):
            for setting, setting_facts in data["settings"].items():
                for words, course in data["courses"].items():
                    for registered in (True, False):
                        on_grid = funding != "zero" and in_england and not registered
                        expected = data["grid"][setting].get(course, "no") if on_grid else "no"
                        facts = {
                            "round": "2026",
                            "cohort_funding": funding,
                            "in_england": in_england,
                            **setting_facts,
                            "course": course,
                        }
                        if registered:
                            facts["previous_funded_places"] = [{"course": course, "status": "active"}]
                        if expected == "yes (if on ITT provider list)":
                            facts["approved_itt_provider"] = True
                        if (
                            on_grid
                            and setting_facts["work_setting"] in SCHOOLS
                            and course in grid_lists["courses"]
                        ):
                            facts["eligibility_lists"] = ["rise"]
                        name = f"{cohort}, {'' if in_england else 'not '}in England, {setting}, {words}" + (
                            ", registered before" if registered else ""
                        )
                        portal = conflicts.get((setting, course)) if on_grid else None
                        rows.append((name, facts, expected, portal))
    for row in data["list_rows"]:
        setting_facts = data["settings"][row["setting"]]
        pp50 = "pp50_fe" if setting_facts["work_setting"] == "16_to_19" else "pp50_school"
        lists = (["rise"] if row["rise"] else []) + ([pp50] if row["pp50"] else [])
        facts = {
            "round": "2026",
            "cohort_funding": "capped",
            "in_england": True,
            **setting_facts,
            "course": row["course"],
            "eligibility_lists": lists,
        }
        name = f"{row['setting']}, {row['course']}, lists: {', '.join(lists) or 'none'}"
        rows.append((name, facts, row["expected"], None))
    return rows


SCHOOLS = ("school", "academy_trust", "16_to_19")
TABLE_2026 = table_2026()


@pytest.mark.parametrize(("name", "facts", "expected", "portal"), TABLE_2026, ids=[r[0] for r in TABLE_2026])
def test_the_portal_decides_as_dfes_2026_scenario_table(name, facts, expected, portal):
    decision = decide(parse_facts(facts))
    if portal is not None:  # DfE's table and DfE's spec disagree: the portal follows the spec
        assert decision.funded is (portal == "funded")
        return
    assert decision.funded is expected.startswith("yes")
    assert decision.subject_to_review is (expected == "subject to review")


def test_dfes_2026_table_is_read_whole():
    assert len(TABLE_2026) == 1368  # the rows of DfE's file
    assert sum(1 for r in TABLE_2026 if r[2].startswith("yes")) == 61  # DfE funds 61 of its rows
    assert sum(1 for r in TABLE_2026 if r[2] == "subject to review") == 22


def test_every_round_has_its_scenarios_and_every_table_was_read():
    counts = {round_code: len(scenarios(round_code)) for round_code in ROUNDS}
    # Hundreds of cases a round: a table that stopped being read would show here.
    assert counts == {"2022-23": 230, "2025": 187, "2025-26": 1188, "2026": 1392}, counts


def agreement(round_code: str) -> tuple[int, int, int]:
    """(cases, agreeing on funded, agreeing on the reason) for a round: run as a script to print."""
    cases = scenarios(round_code)
    funded = reason = 0
    for _name, facts, dfe, portal in cases:
        decision = decide(parse_facts(facts))
        funded += decision.funded is (dfe in DFE_FUNDED)
        reason += decision.reason == (portal or portal_reason(dfe, facts))
    return len(cases), funded, reason


if __name__ == "__main__":  # python -m tests.test_funding_scenarios (with DJANGO_SETTINGS_MODULE set)
    import django

    django.setup()
    for round_code in ROUNDS:
        total, funded, reason = agreement(round_code)
        print(
            f"{round_code} spec tables: {total} cases, funded agrees {funded}/{total}, reason {reason}/{total}"
        )
    agree = sum(
        decide(parse_facts(facts)).funded is expected.startswith("yes")
        for _, facts, expected, _ in TABLE_2026
    )
    print(f"2026 scenario table: {len(TABLE_2026)} rows, funded agrees {agree}/{len(TABLE_2026)}")
