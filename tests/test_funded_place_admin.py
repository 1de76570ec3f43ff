"""Staff change a funded place in admin: errors next to the fields (GOV.UK pattern), only for
their hub, with the place's history on the application's page."""

import pytest
from django.urls import reverse

from applications.services import application_accept
from tests.factories import CourseFactory, GroupFactory, HubStaffFactory
from tests.test_funded_places import endorsed

pytestmark = pytest.mark.django_db


@pytest.fixture
def capped_course():
    course = CourseFactory(funded_places=1, cohort__funding_model="capped")
    GroupFactory(course=course, capacity=10, name="Group A")
    return course


@pytest.fixture
def staff(capped_course):
    return HubStaffFactory(hub=capped_course.cohort.hub)


def test_the_change_page_shows_errors_next_to_the_fields_and_only_to_the_hub(client, capped_course, staff):
    accepted = application_accept(application=endorsed(capped_course, eligible=False), by=staff)
    url = reverse("admin:applications_application_funded_place", args=[accepted.pk])
    client.force_login(HubStaffFactory(hub=CourseFactory().cohort.hub))
    assert client.get(url).status_code == 404
    client.force_login(staff)
    page = client.get(reverse("admin:applications_application_change", args=[accepted.pk])).content.decode()
    assert "No: paid by the school or the participant" in page and "Change the funded place" in page
    response = client.post(url, {"funded_place": "yes", "reason": ""})
    html = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in html
    assert 'href="#id_reason"' in html and "Enter the reason for changing the funded place" in html
    response = client.post(url, {"funded_place": "yes", "reason": "Checked with DfE"})
    assert "not eligible for funding" in response.content.decode()
    accepted.refresh_from_db()
    assert accepted.funded_place is False


def test_the_accept_page_offers_a_place_not_funded_beyond_the_cap(client, capped_course, staff):
    application_accept(application=endorsed(capped_course, eligible=True), by=staff)
    second = endorsed(capped_course, eligible=True)
    client.force_login(staff)
    url = reverse("admin:applications_application_accept", args=[second.pk])
    page = client.get(url).content.decode()
    assert "Paid by the school or the participant (uses no funded place)" in page
    assert (
        "Funded places used on NPQLT" in page and ": 1 of 1. This applicant is eligible for funding." in page
    )
    assert "is full (1 places)" in client.post(url, {"funded_place": ""}).content.decode()
    assert client.post(url, {"funded_place": "no"}).status_code == 302
    second.refresh_from_db()
    assert (second.status, second.funded_place) == ("accepted", False)
