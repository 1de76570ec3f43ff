"""Funding rounds in admin: each round's rules shown in words, edited as data, refused in words
when they cannot be read, with history; a cohort chooses its round."""

import json

import pytest

from funding.eligibility import decide, parse_facts
from funding.models import FundingRound, rules_from_data
from funding.rounds import DEFAULT_ROUNDS, RulesError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/funding/fundinground/{}/change/"


def test_the_four_rounds_are_there_with_their_own_tables():
    assert set(FundingRound.objects.values_list("code", flat=True)) >= {"2022-23", "2025", "2025-26", "2026"}
    tables = {r.code: r.rules().rules for r in FundingRound.objects.all()}
    assert len({json.dumps(t, sort_keys=True) for t in tables.values()}) == len(tables)  # each its own


def test_a_rounds_rules_read_in_words(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(URL.format(FundingRound.objects.get(code="2026").pk)).content.decode()
    assert (
        "works in: a school, an academy trust or a 16 to 19 setting; on DfE&#x27;s lists: RISE schools"
        in page
    )
    assert "referred by a return-to-teaching adviser" in page and "To be reviewed" in page
    assert "State-funded establishment types (GIAS codes)" in page
    assert "admin-portal/staff-pages" in page  # the table's and the summary list's styles
    assert "&quot;then&quot;" not in page and '"then"' not in page.split("<textarea", 1)[0]  # no JSON shown


def _post(client, funding_round, rules_data):
    return client.post(
        URL.format(funding_round.pk),
        {"code": funding_round.code, "name": funding_round.name, "rules_data": json.dumps(rules_data)},
    )


def test_a_rule_edited_in_admin_changes_decisions_and_is_kept_in_history(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    funding_round = FundingRound.objects.get(code="2026")
    facts = parse_facts(
        {
            "round": "2026",
            "course": "NPQLT",
            "in_england": True,
            "work_setting": "school",
            "establishment_type_code": 1,
        }
    )
    assert decide(facts, funding_round.rules()).reason == "ineligible_establishment_not_on_list"
    # DfE opens NPQLT to every state school: the round's table changes, not the code.
    table = [row for row in DEFAULT_ROUNDS["2026"].rules if "NPQLT" not in row["if"].get("course", [])]
    response = _post(client, funding_round, {"rules": table})
    assert response.status_code == 302
    funding_round.refresh_from_db()
    assert decide(facts, funding_round.rules()).reason == "funded"
    assert funding_round.history.count() >= 1
    assert funding_round.history.first().history_user == admin_user


@pytest.mark.parametrize(
    ("rules_data", "message"),
    [
        (
            {"rules": [{"if": {"course": ["NPQXX"]}, "then": "funded"}]},
            "&#x27;NPQXX&#x27; is not a known value",
        ),
        ({"rules": [{"if": {"colour": ["red"]}, "then": "funded"}]}, "&#x27;colour&#x27; is not a condition"),
        ({"rules": [{"if": {}, "then": "paid"}]}, "&#x27;paid&#x27; is not a reason code"),
        ({"rules": [{"when": {}}]}, "rule 1 must have exactly"),
        ({"rules": "funded"}, "the rules must be a list"),
        ({"ehco_max_years_as_headteacher": "five"}, "must be a whole number"),
        ({"open_courses": ["NPQH"]}, "is not a rule of a round"),
    ],
)
def test_rules_that_cannot_be_read_are_refused_in_words_and_nothing_saved(client, rules_data, message):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    funding_round = FundingRound.objects.get(code="2025-26")
    response = _post(client, funding_round, rules_data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "These rules cannot be used" in page and message in page
    funding_round.refresh_from_db()
    assert funding_round.rules_data == {}


def test_a_new_round_must_bring_its_table():
    with pytest.raises(RulesError):
        rules_from_data("2027", {"ehco_max_years_as_headteacher": 5})
    rules = rules_from_data("2027", {"rules": [{"if": {"course": ["NPQH"]}, "then": "funded"}]})
    facts = parse_facts({"round": "2026", "course": "NPQH", "in_england": True})
    assert decide(facts, rules).reason == "funded"
    assert decide(parse_facts({"round": "2026", "course": "NPQLT", "in_england": True}), rules).reason == (
        "ineligible_establishment_type"
    )


def test_hub_staff_see_their_cohorts_round_and_its_rules_but_cannot_change_them(client):
    from tests.factories import CohortFactory, HubFactory, HubStaffFactory

    hub = HubFactory()
    staff = HubStaffFactory(hub=hub)
    cohort = CohortFactory(hub=hub, funding_round=FundingRound.objects.get(code="2025-26"))
    client.force_login(staff)
    cohort_page = client.get(f"/admin/programmes/cohort/{cohort.pk}/change/").content.decode()
    round_url = URL.format(cohort.funding_round.pk)
    assert "2025-26 (targeted scholarships, August 2025 to May 2026)" in cohort_page
    page = client.get(round_url).content.decode()
    assert "on DfE&#x27;s lists: Local authority nurseries" in page  # the LA nursery rule, in words
    response = _post(client, cohort.funding_round, {"ehco_max_years_as_headteacher": 9})
    assert response.status_code == 403
    assert FundingRound.objects.get(code="2025-26").rules_data == {}
