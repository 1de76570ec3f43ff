"""The workplace search of the funding checker and the application form.

No error before the person has done anything; a list to choose from when several places match;
when nothing matches, a way forward: search again, or "My workplace is not listed", which asks
for its name and postcode and sends the funding decision to the hub's manual check.
"""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from applications.models import Application
from funding.models import FundingDecision, FundingReview, Institution
from programmes.models import Programme
from tests.factories import CohortFactory, CourseFactory, UserFactory
from tests.test_hostile_input import HOSTILE_VALUES, Target, attack, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
SEARCH = "What is the name, URN or postcode of your workplace?"


@pytest.fixture
def schools():
    for urn, name, postcode in [
        (137001, "Northfield Academy", "ME14 2LR"),
        (137002, "Northfield Primary School", "ME14 2LS"),
    ]:
        Institution.objects.create(
            urn=urn, name=name, establishment_type_code=28, la_code="886", postcode=postcode, status="Open"
        )


def checker_url(not_listed: bool = False) -> str:
    url = reverse("funding_check_step", args=["workplace"])
    return f"{url}?not-listed" if not_listed else url


@pytest.fixture
def at_workplace(client, schools):
    client.post(reverse("funding_check"))
    client.post(reverse("funding_check_step", args=["course"]), {"course": "NPQH"})
    client.post(reverse("funding_check_step", args=["in-england"]), {"in_england": "yes"})
    client.post(reverse("funding_check_step", args=["work-setting"]), {"work_setting": "school"})
    return client


def no_error(html: str) -> bool:
    return (
        "There is a problem" not in html and "govuk-error-message" not in html and "<title>Error" not in html
    )


def test_the_first_visit_shows_the_search_without_an_error(at_workplace):
    html = at_workplace.get(checker_url()).content.decode()
    assert SEARCH in html and no_error(html)
    assert f'href="{checker_url(not_listed=True)}"' in html and "My workplace is not listed" in html


def test_several_matches_are_a_list_to_choose_from_not_an_error(at_workplace):
    html = at_workplace.post(checker_url(), {"workplace": "Northfield"}).content.decode()
    assert no_error(html) and "Choose your workplace" in html
    assert "2 open schools and colleges match your search." in html
    # Continuing without choosing from that list is the error.
    html = at_workplace.post(
        checker_url(), {"workplace": "Northfield", "listed_for": "Northfield"}
    ).content.decode()
    assert "<title>Error" in html
    assert "Select your workplace, or choose ‘My workplace is not listed’ if it is not in the list" in html
    # A new search with a choice left from the old list shows the new list, without an error.
    html = at_workplace.post(
        checker_url(), {"workplace": "northfield", "listed_for": "Northfield", "urn": "137002"}
    ).content.decode()
    assert no_error(html) and 'name="listed_for" value="northfield"' in html
    assert 'value="137002" checked' not in html  # nothing chosen from the new list yet
    response = at_workplace.post(
        checker_url(), {"workplace": "Northfield", "listed_for": "Northfield", "urn": "137002"}
    )
    assert response["Location"] == reverse("funding_check_result")
    assert at_workplace.session["funding_check"]["urn"] == 137002


def test_nothing_found_offers_a_new_search_or_not_listed(at_workplace):
    html = at_workplace.post(checker_url(), {"workplace": "Hillside School"}).content.decode()
    assert "No open school or college matches that. Check the name, URN or postcode and search again" in html
    assert "My workplace is not listed" in html and f'href="{checker_url(not_listed=True)}"' in html
    assert 'value="Hillside School"' in html  # the search box keeps what was typed
    # Searching again by postcode finds it.
    response = at_workplace.post(checker_url(), {"workplace": "me14 2lr"})
    assert response["Location"] == reverse("funding_check_result")


def test_a_workplace_not_listed_goes_to_the_hubs_check(at_workplace):
    page = at_workplace.get(checker_url(not_listed=True)).content.decode()
    assert "What is the name and postcode of your workplace?" in page and no_error(page)
    assert f'href="{checker_url()}" class="govuk-back-link"' in page
    html = at_workplace.post(
        checker_url(not_listed=True), {"workplace_name": " ", "workplace_postcode": "nope"}
    ).content.decode()
    assert "Enter the name of your workplace" in html and "Enter a real postcode, like ME14 2LR" in html
    response = at_workplace.post(
        checker_url(not_listed=True), {"workplace_name": "Hillside School", "workplace_postcode": "me11aa"}
    )
    assert response["Location"] == reverse("funding_check_result")
    html = at_workplace.get(reverse("funding_check_result")).content.decode()
    assert "Your funding needs to be checked" in html and 'data-reason="workplace_not_listed"' in html
    assert "We could not find your workplace in the register of schools and colleges" in html
    assert "Hillside School, ME1 1AA (not listed: your hub will check it)" in html
    assert f'href="{checker_url(not_listed=True)}"' in html  # its change link
    # Finding it after all replaces the answer.
    at_workplace.post(checker_url(), {"workplace": "137001"})
    assert "workplace_not_listed" not in at_workplace.session["funding_check"]
    html = at_workplace.get(reverse("funding_check_result")).content.decode()
    assert 'data-reason="funded"' in html


@time_machine.travel(date(2025, 7, 1), tick=False)
def test_an_applicant_whose_workplace_is_not_listed_is_checked_by_the_hub(client, schools):
    cohort = CohortFactory()
    CourseFactory(cohort=cohort, programme=Programme.objects.get(code="NPQH"))
    client.force_login(UserFactory(email="alice@school.example"))
    location = client.post(reverse("apply"), {"cohort": cohort.pk})["Location"]
    application = Application.objects.get()
    for data in ({"in_england": "yes"}, {"work_setting": "school"}):
        location = client.post(location, data)["Location"]
    html = client.get(location).content.decode()
    assert SEARCH in html and no_error(html)
    not_listed = f"{location}?not-listed"
    assert f'href="{not_listed}"' in html
    html = client.post(location, {"workplace": "Hillside"}).content.decode()
    assert "Check the name, URN or postcode and search again" in html
    response = client.post(not_listed, {"workplace_name": "Hillside School", "workplace_postcode": "ME1 1AA"})
    assert response["Location"].endswith("/role")
    location = client.post(response["Location"], {"role": "Deputy head"})["Location"]
    location = client.post(location, {"course": cohort.courses.get().pk})["Location"]
    assert location.endswith("/funding")
    page = client.get(location).content.decode()
    assert "Your funding needs to be checked" in page and 'data-reason="workplace_not_listed"' in page
    for data in (
        {"funding_seen": "True"},
        {"payment": "school"},
        {"trn": "1234567"},
        {"full_name": "Alice Adeyemi", "date_of_birth": "27 3 1985"},
        {"endorser_name": "Lee Line", "endorser_email": "lee@hillside.example"},
        {"mentor_name": "Mo Mentor", "mentor_email": "mo@hillside.example"},
        {"support_requested": "no"},
        {"consent": "on"},
    ):
        location = client.post(location, data)["Location"]
    assert location == reverse("application_check", args=[application.pk])
    check = client.get(location).content.decode()
    assert "Hillside School, ME1 1AA (not listed: your hub will check it)" in check
    assert f'href="{reverse("application_step", args=[application.pk, "workplace"])}?not-listed"' in check
    client.post(location)
    application.refresh_from_db()
    assert application.status == "awaiting_endorsement"
    assert application.workplace_name == "Hillside School" and application.institution_id is None
    decision = FundingDecision.objects.get()
    assert decision.reason == "workplace_not_listed" and decision.subject_to_review
    assert FundingReview.objects.filter(decision=decision).exists()  # the hub's manual check
    assert application.employments.get().workplace_name == "Hillside School"


@pytest.mark.parametrize("value", [v for v in HOSTILE_VALUES if not isinstance(v, list)])
def test_hostile_input_to_the_not_listed_page_is_an_error_not_a_crash(world, attack, value):  # noqa: F811
    application_url = reverse("application_step", args=[world.draft.pk, "workplace"]) + "?not-listed"
    for target in (Target(checker_url(not_listed=True)), Target(application_url, "alice")):
        for data in (
            {"workplace_name": value, "workplace_postcode": "ME1 1AA"},
            {"workplace_name": "Hillside School", "workplace_postcode": value},
        ):
            response = attack.send(target, "POST", data)
            assert response.status_code in (200, 302), (target.url, data)
    assert not attack.problems, "\n".join(attack.problems)
