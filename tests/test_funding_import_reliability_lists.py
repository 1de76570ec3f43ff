"""Imports never half-load, never empty a list by accident and never stay "running" forever.

These tests pin a cut list: a list that would lose more than half of its settings is replaced
only once a superuser (or the command, with --confirm) has seen the changes.
"""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from funding.imports import import_eligibility_list, import_run_execute
from funding.models import EligibilityListEntry, FundingRound, Institution
from tests.factories import HubFactory, HubStaffFactory, UserFactory
from tests.funding_import_support import list_file, list_run, stored, urns

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_2025():
    return FundingRound.objects.get(code="2025")


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def list_of_ten(round_2025):
    import_eligibility_list(list_file(urns(100001, 10)), funding_round=round_2025, kind="pp50_school")
    return urns(100001, 10)


# --- Lists cut below half: confirmed before they are replaced ------------------------------------


def test_a_list_cut_below_half_is_not_replaced_until_a_superuser_confirms(
    client, superuser, round_2025, list_of_ten, django_capture_on_commit_callbacks
):
    cut = list_file([*urns(100001, 3), "200001"])  # 3 of the 10 kept and 1 new: fewer than half
    run = import_run_execute(list_run(cut, round_2025))
    assert run.status == "needs_confirmation"
    assert run.changes["current"] == 10 and run.changes["incoming"] == 4
    assert (run.changes["removed"], run.changes["added"], run.changes["unchanged"]) == (7, 1, 3)
    assert run.changes["removed_sample"] == urns(100004, 7)
    assert stored(round_2025) == list_of_ten  # nothing changed yet

    Institution.objects.create(urn=100004, name="Hillside Primary School")
    client.force_login(superuser)
    change_page = client.get(reverse("admin:funding_importrun_change", args=[run.pk])).content.decode()
    confirm_url = reverse("admin:funding_importrun_confirm", args=[run.pk])
    assert confirm_url in change_page
    page = client.get(confirm_url).content.decode()
    assert "This file would leave 4 of the 10 settings on the list (40%)" in page
    assert "Hillside Primary School" in page and "200001" in page and "100010" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url, {"decision": "replace"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "done" and run.confirmed_by == superuser and run.confirmed_at is not None
    assert (run.created, run.removed, run.unchanged) == (1, 7, 3)
    assert stored(round_2025) == [*urns(100001, 3), "200001"]


def test_keeping_the_current_list_cancels_the_run(client, superuser, round_2025, list_of_ten):
    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    client.force_login(superuser)
    client.post(reverse("admin:funding_importrun_confirm", args=[run.pk]), {"decision": "keep"})
    run.refresh_from_db()
    assert run.status == "cancelled" and "chose to keep the current list" in run.message
    assert stored(round_2025) == list_of_ten


def test_a_confirmation_holds_only_for_the_list_that_was_seen(superuser, round_2025, list_of_ten):
    from funding.imports import import_run_confirm

    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    EligibilityListEntry.objects.create(funding_round=round_2025, kind="pp50_school", identifier="300001")
    import_run_confirm(run=run, by=superuser)
    run = import_run_execute(run)
    assert run.status == "needs_confirmation"
    assert "The list has changed since the replacement was confirmed" in run.message
    assert len(stored(round_2025)) == 11


def test_only_superusers_see_the_confirmation_page(client, round_2025, list_of_ten):
    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    client.force_login(HubStaffFactory(hub=HubFactory()))
    url = reverse("admin:funding_importrun_confirm", args=[run.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "replace"}).status_code == 403
    run.refresh_from_db()
    assert run.status == "needs_confirmation"


def test_a_list_that_keeps_half_replaces_without_asking(round_2025, list_of_ten):
    outcome = import_eligibility_list(
        list_file(urns(100001, 5)), funding_round=round_2025, kind="pp50_school"
    )
    assert (outcome.removed, outcome.unchanged) == (5, 5)
    assert stored(round_2025) == urns(100001, 5)


def test_the_command_replaces_a_shrinking_list_only_with_confirm(round_2025, list_of_ten, tmp_path, capsys):
    path = tmp_path / "cut.csv"
    path.write_bytes(list_file(urns(100001, 2)))
    with pytest.raises(CommandError, match="--confirm"):
        call_command("import_eligibility_list", str(path), "--round", "2025", "--kind", "pp50_school")
    assert "Would remove 8 (such as 100003" in capsys.readouterr().err
    assert stored(round_2025) == list_of_ten
    call_command(
        "import_eligibility_list", str(path), "--round", "2025", "--kind", "pp50_school", "--confirm"
    )
    assert stored(round_2025) == urns(100001, 2)


# --- The confirmation page in a browser -----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_confirmation_page_passes_axe_and_replaces_the_list(live_server, chromium_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS
    from tests.test_accessibility import AXE, WCAG_22_AA, session_cookie

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    round_2025 = FundingRound.objects.get(code="2025")
    import_eligibility_list(list_file(urns(100001, 10)), funding_round=round_2025, kind="pp50_school")
    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    cookie = session_cookie(UserFactory(is_staff=True, is_superuser=True))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True)  # to add axe's script to the page
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
            page = context.new_page()
            page.goto(live_server.url + reverse("admin:funding_importrun_confirm", args=[run.pk]))
            assert "would leave 2 of the 10 settings" in page.inner_text("#list-shrinks")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
            )
            assert [violation["id"] for violation in result["violations"]] == []
            page.get_by_role("button", name="Replace the list with this file").click()
            page.wait_for_load_state()
            assert "Confirmed: the list will be replaced." in page.content()
        finally:
            browser.close()
    assert stored(round_2025) == urns(100001, 2)
