"""The whole application journey in a real headless Chromium: apply, endorse by email, accept."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from applications.models import Application
from funding.models import Institution
from programmes.models import Programme
from tests.browser import browser_page, screenshot, sign_in
from tests.factories import PASSWORD, CohortFactory, CourseFactory, GroupFactory, HubStaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def answer_radio(page, label):
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Continue").click()


def test_apply_endorse_and_accept_in_the_browser(live_server, chromium_path):
    today = timezone.localdate()
    Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        postcode="ME14 2LR",
        status="Open",
        number_of_pupils=900,
    )
    cohort = CohortFactory(
        identifier="2027-spring",
        registration_opens_on=today - timedelta(days=10),
        registration_closes_on=today + timedelta(days=30),
        start_date=today + timedelta(days=60),
    )
    course = CourseFactory(
        cohort=cohort,
        programme=Programme.objects.get(code="NPQSENCO"),
        funded_places=10,
        delivery_start=cohort.start_date,
    )
    GroupFactory(course=course, name="Group A")
    UserFactory(email="alice@school.example", full_name="Alice Adeyemi")
    UserFactory(email="hana@school.example", full_name="Hana Hughes")
    staff = HubStaffFactory(email="sam@hub.example", hub=cohort.hub)
    base = live_server.url

    with browser_page(chromium_path) as page:
        sign_in(page, base, "alice@school.example", PASSWORD)
        page.get_by_role("link", name="Apply for an NPQ").first.click()
        page.get_by_role("button", name="Continue").click()  # the only open cohort is preselected
        page.get_by_role("button", name="Continue").click()  # nothing chosen: an error
        assert page.title().startswith("Error: ")
        assert "Select yes if you work in England" in page.locator(".govuk-error-summary").inner_text()
        answer_radio(page, "Yes")
        answer_radio(page, "A school")
        page.get_by_label("What is the name, URN or postcode of your workplace?").fill("ME14 2LR")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("What is your role?").fill("SENCO")
        page.get_by_role("button", name="Continue").click()
        answer_radio(page, "NPQ for Special Educational Needs Co-ordinators")
        page.get_by_label("When did you become a SENCO?").fill("9 2023")
        page.get_by_role("button", name="Continue").click()
        assert "You are likely to get scholarship funding" in page.content()
        screenshot(page, "application-funding")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("What is your teacher reference number (TRN)?").fill("12345")
        page.get_by_role("button", name="Continue").click()
        assert (
            page.locator(".govuk-error-message")
            .inner_text()
            .endswith("Teacher reference number must be 7 digits")
        )
        screenshot(page, "application-trn-error")
        page.get_by_label("What is your teacher reference number (TRN)?").fill("RP12/34567")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("What is your full name as held by the Teaching Regulation Agency?").fill(
            "Alice Adeyemi"
        )
        page.get_by_label("What is your date of birth?").fill("27 3 1985")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Your headteacher's full name").fill("Hana Hughes")
        page.get_by_label("Your headteacher's email address").fill("hana@school.example")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Mentor's full name").fill("Mo Mentor")
        page.get_by_label("Mentor's email address").fill("mo@school.example")
        page.get_by_role("button", name="Continue").click()
        answer_radio(page, "No")
        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="Continue").click()
        assert page.title().startswith("Check your answers")
        screenshot(page, "application-check-answers")
        page.get_by_role("button", name="Submit application").click()
        assert "Application submitted" in page.locator("h1").inner_text()

        # The headteacher opens the emailed link, signs in and endorses.
        link = re.search(r"https?://\S+/endorse/\S+/", mail.outbox[-1].body).group(0)
        path = link.split("/endorse/", 1)[1]
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{base}/endorse/{path}")
        # Not signed in: who asked, for what, and the address to sign in with.
        assert "Alice Adeyemi has asked you to endorse" in page.locator("h1").inner_text()
        assert page.locator("#endorser-email").inner_text() == "hana@school.example"
        screenshot(page, "endorsement-sign-in")
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_label("Email").fill("hana@school.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{base}/endorse/{path}")
        screenshot(page, "endorsement")
        page.get_by_label("Yes, I endorse this application").check()
        page.get_by_role("button", name="Send your answer").click()
        assert "You have endorsed the application" in page.content()
        page.goto(f"{base}/endorse/{path}")
        assert "This link has already been used." in page.content()
        page.get_by_role("button", name="Sign out").click()

        # Hub staff accept it in admin.
        application = Application.objects.get()
        sign_in(page, base, staff.email, PASSWORD, user=staff)
        page.goto(f"{base}/admin/applications/application/{application.pk}/change/")
        page.get_by_role("link", name="Accept").click()
        page.get_by_role("button", name="Accept").click()
        assert "accepted" in page.locator(".messagelist").inner_text()

        # The applicant sees the outcome.
        page.context.clear_cookies()
        sign_in(page, base, "alice@school.example", PASSWORD)
        page.goto(f"{base}/applications/{application.pk}/")
        assert page.locator("#application-status").inner_text() == "Accepted"
        timeline = page.locator("#timeline").inner_text()
        for label in ("Started", "Submitted", "Waiting for endorsement", "Endorsed", "Accepted"):
            assert label in timeline
        screenshot(page, "application-accepted")
    application.refresh_from_db()
    assert application.participant.group.name == "Group A" and application.participant.trn == "1234567"
