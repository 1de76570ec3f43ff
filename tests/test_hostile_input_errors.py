"""What people see when hostile input is refused (tests/test_hostile_input.py tries it on every
page): an error next to its field, in the GOV.UK error summary, and nothing done. The workplace
search, choosing a workplace, applying to a cohort, and withdrawing an application."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from django.urls import reverse

from applications.models import Application
from tests.factories import CohortFactory
from tests.hostile_support import World, attacked_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks, settings, tmp_path) -> Iterator[World]:
    yield from attacked_world(django_capture_on_commit_callbacks, settings, tmp_path)


def error_next_to_field(html: str, message: str) -> bool:
    return (
        "<title>Error: " in html
        and 'class="govuk-error-summary"' in html
        and re.search(r'class="govuk-error-message">.*?</span> ' + re.escape(message), html) is not None
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("²", "No open school or college matches that. Check the name, URN or postcode"),
        ("1370\x0001", "Enter the name, URN or postcode using letters and numbers"),
        ("9" * 40, "No open school or college matches that. Check the name, URN or postcode"),
        ("x" * 101, "Name, URN or postcode must be 100 characters or fewer"),
    ],
)
def test_the_workplace_search_answers_bad_input_with_an_error(client, world, typed, message):
    response = client.post(reverse("funding_check_step", args=["workplace"]), {"workplace": typed})
    assert response.status_code == 200
    assert error_next_to_field(response.content.decode(), message)


@pytest.mark.parametrize("typed", ["137001", "１３７００１", "١٣٧٠٠١", " 137001 "])
def test_a_urn_is_found_in_any_digits(client, world, typed):
    response = client.post(reverse("funding_check_step", args=["workplace"]), {"workplace": typed})
    assert response.status_code == 302
    assert client.session["funding_check"]["urn"] == 137001


def test_choosing_from_several_workplaces_refuses_one_not_in_the_list(client, world):
    url = reverse("funding_check_step", args=["workplace"])
    response = client.post(url, {"workplace": "Northfield", "urn": "²"})
    assert error_next_to_field(response.content.decode(), "Select your workplace from the list")
    assert client.post(url, {"workplace": "Northfield", "urn": "137002"}).status_code == 302


def test_applying_to_a_cohort_not_open_is_an_error_not_a_crash(client, world):
    client.force_login(world.alice)
    closed = CohortFactory(registration_opens_on=date(2025, 1, 1), registration_closes_on=date(2025, 2, 1))
    for cohort, message in [
        ("²", "Select a cohort that is open for registration"),
        (str(closed.pk), "Select a cohort that is open for registration"),
        ("9" * 40, "Select a cohort that is open for registration"),
        ("\x00", "Null characters are not allowed."),
        ("", "Select the cohort you want to join"),
    ]:
        response = client.post(reverse("apply"), {"cohort": cohort})
        assert response.status_code == 200 and error_next_to_field(response.content.decode(), message)
    assert not Application.objects.filter(cohort=closed).exists()


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("Moving\x00abroad", "Enter a reason using letters, numbers and punctuation"),
        ("x" * 501, "Reason must be 500 characters or fewer"),
    ],
)
def test_a_bad_reason_for_withdrawing_is_an_error_and_withdraws_nothing(client, world, reason, message):
    client.force_login(world.alice)
    response = client.post(reverse("application_withdraw", args=[world.draft.pk]), {"reason": reason})
    assert error_next_to_field(response.content.decode(), message)
    world.draft.refresh_from_db()
    assert world.draft.status == Application.Status.DRAFT
    client.post(reverse("application_withdraw", args=[world.draft.pk]), {"reason": "Moving abroad"})
    world.draft.refresh_from_db()
    assert (world.draft.status, world.draft.decision_reason) == (
        Application.Status.WITHDRAWN,
        "Moving abroad",
    )
