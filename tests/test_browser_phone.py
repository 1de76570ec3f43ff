"""Every page fits a phone: at 375 px wide nothing makes the page scroll sideways (a wide table
scrolls inside its own box). Real headless Chromium; screenshots in test-artifacts/."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from applications.models import Application
from applications.services import application_submit
from funding.models import Institution
from notifications.models import Notification
from tests.browser import browser_page, screenshot, sign_in
from tests.factories import (
    PASSWORD,
    ActivityFactory,
    ApplicationFactory,
    GroupFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PHONE = {"width": 375, "height": 812}


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def alice():
    """A participant with a course (a group, activities) and an application waiting for her head."""
    Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        number_of_pupils=900,
        status="Open",
    )
    user = UserFactory(
        email="alice.adeyemi-longsurname@northfield-academy.example", full_name="Alice Adeyemi"
    )
    group = GroupFactory(name="Group A")
    participant = ParticipantFactory(user=user, group=group, course=group.course)
    soon = timezone.now() + timedelta(days=3)
    for n, title in enumerate(["Induction conference", "Module 1 seminar: leading curriculum change"]):
        ActivityFactory(group=group, title=title, starts_at=soon + timedelta(days=7 * n))
    ActivityFactory(group=group, title="Module 1 online study", starts_at=None, due_on=soon.date())
    application = ApplicationFactory(user=user)
    application_submit(application=application, by=user)
    Notification.objects.create(
        kind="engagement_at_risk",
        recipient=user.email,
        user=user,
        subject_type="programmes.participant",
        subject_id=participant.pk,
        occurrence="2026-W48",
        title="Your engagement in Leading Teaching is below 90%: catch up on the activities you missed",
        body_text="-",
        body_html="-",
        status=Notification.Status.SENT,
    )
    return participant, Application.objects.get(pk=application.pk)


def fits(page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"phone-{name}")
    assert width <= PHONE["width"], f"{name} ({page.url}) is {width} px wide at {PHONE['width']} px"


def test_every_page_fits_a_phone(live_server, chromium_path, alice):
    participant, application = alice
    base = live_server.url
    with browser_page(chromium_path) as page:
        page.set_viewport_size(PHONE)
        for path, name in [
            ("/", "start"),
            ("/check-funding/", "check-funding"),
            ("/accounts/login/", "sign-in"),
            ("/accounts/signup/", "create-account"),
            ("/accounts/password/reset/", "reset-password"),
            ("/status", "status"),
        ]:
            page.goto(base + path)
            fits(page, name)

        sign_in(page, base, participant.user.email, PASSWORD)
        for path, name in [
            ("/", "home"),
            (f"/applications/{application.pk}/", "application"),
            (f"/enrolments/{participant.pk}/", "enrolment"),
            ("/calendar/", "calendar"),
            ("/reminders/", "messages"),
            ("/accounts/email/", "email-addresses"),
            ("/accounts/2fa/", "two-factor"),
        ]:
            page.goto(base + path)
            assert page.locator("h1").count() == 1, path
            fits(page, name)
        assert page.locator(".govuk-service-navigation__toggle").is_visible()  # the menu folds away


def test_the_headteachers_pages_fit_a_phone(live_server, chromium_path, alice):
    _, application = alice
    token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)  # emailed on submission
    base = live_server.url
    UserFactory(email="hana@school.example", full_name="Hana Hughes")
    with browser_page(chromium_path) as page:
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/endorse/{token}/")
        assert "Alice Adeyemi has asked you to endorse" in page.locator("h1").inner_text()
        fits(page, "endorsement-sign-in")
        sign_in(page, base, "hana@school.example", PASSWORD)
        page.goto(base + "/")
        assert page.locator("h1").inner_text() == "Endorsements"
        assert "Alice Adeyemi" in page.locator("main").inner_text()
        fits(page, "endorsements")
