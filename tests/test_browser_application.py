"""The whole application journey in a real headless Chromium: apply, endorse by email, accept."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from applications.models import Application
from funding.models import Institution
from programmes.models import Programme
from tests.browser import browser_page, screenshot, sign_in
from tests.factories import (
    PASSWORD,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)
from tests.test_accessibility import AXE, WCAG_22_AA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


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
        expect(page).to_have_title(re.compile("^Error: "))
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


def both_widths(page, name):
    """The page passes axe, and fits a desktop's and a phone's width (screenshots of both in
    test-artifacts/); then back to desktop."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    assert not result["violations"], (
        name,
        [(v["id"], v["nodes"][0]["target"]) for v in result["violations"]],
    )
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], name
    page.set_viewport_size(DESKTOP)


def continue_(page):
    page.get_by_role("button", name="Continue").click()


def summary(page) -> dict[str, str]:
    """Check your answers as {question: answer}."""
    rows = page.locator(".govuk-summary-list__row")
    return {
        rows.nth(i).locator(".govuk-summary-list__key").inner_text(): rows.nth(i)
        .locator(".govuk-summary-list__value")
        .inner_text()
        for i in range(rows.count())
    }


@pytest.fixture
def senco_cohort():
    today = timezone.localdate()
    for urn, name, postcode in [
        (137001, "Northfield Academy", "ME14 2LR"),
        (137002, "Northfield Primary School", "ME14 2LS"),
    ]:
        Institution.objects.create(
            urn=urn, name=name, establishment_type_code=28, la_code="886", postcode=postcode, status="Open"
        )
    cohort = CohortFactory(
        identifier="2027-spring",
        registration_opens_on=today - timedelta(days=10),
        registration_closes_on=today + timedelta(days=30),
        start_date=today + timedelta(days=60),
    )
    for code in ("NPQSENCO", "NPQLPM", "EHCO", "NPQSL"):
        CourseFactory(
            cohort=cohort, programme=Programme.objects.get(code=code), delivery_start=cohort.start_date
        )
    UserFactory(email="alice@school.example", full_name="Alice Adeyemi")
    return cohort


def test_changing_answers_from_check_your_answers_keeps_the_others(live_server, chromium_path, senco_cohort):
    base = live_server.url
    with browser_page(chromium_path) as page:
        page.set_viewport_size(DESKTOP)
        sign_in(page, base, "alice@school.example", PASSWORD)
        page.goto(f"{base}/apply/")
        both_widths(page, "apply-cohort")
        continue_(page)
        answer_radio(page, "Yes")
        answer_radio(page, "A school")
        # The workplace search: no error at first; several matches are a list to choose from.
        assert page.locator(".govuk-error-summary").count() == 0
        both_widths(page, "workplace-search")
        page.get_by_label("What is the name, URN or postcode of your workplace?").fill("Northfield")
        continue_(page)
        assert page.locator(".govuk-error-summary").count() == 0
        both_widths(page, "workplace-list")
        continue_(page)  # nothing chosen from the list: now an error
        expect(page).to_have_title(re.compile("^Error: "))
        page.get_by_label("Northfield Academy, ME14 2LR (URN 137001)").check()
        continue_(page)
        page.get_by_label("What is your role?").fill("SENCO")
        continue_(page)
        answer_radio(page, "NPQ for Special Educational Needs Co-ordinators")
        page.get_by_label("When did you become a SENCO?").fill("9 2023")
        continue_(page)
        continue_(page)  # funded
        page.get_by_label("What is your teacher reference number (TRN)?").fill("1234567")
        continue_(page)
        page.get_by_label("What is your full name as held by the Teaching Regulation Agency?").fill(
            "Alice Adeyemi"
        )
        page.get_by_label("What is your date of birth?").fill("27 3 1985")
        continue_(page)
        page.get_by_label("Your headteacher's full name").fill("Hana Hughes")
        page.get_by_label("Your headteacher's email address").fill("hana@school.example")
        continue_(page)
        page.get_by_label("Mentor's full name").fill("Mo Mentor")
        page.get_by_label("Mentor's email address").fill("mo@school.example")
        continue_(page)
        answer_radio(page, "Yes")
        page.get_by_role("checkbox").check()
        continue_(page)
        expect(page).to_have_title(re.compile("^Check your answers"))
        before = summary(page)
        assert before["When did you become a SENCO?"] == "September 2023"

        # Change the role: straight back to check your answers, everything else kept.
        page.get_by_role("link", name="Change what is your role?").click()
        page.get_by_label("What is your role?").fill("Assistant headteacher")
        continue_(page)
        expect(page).to_have_title(re.compile("^Check your answers"))
        assert summary(page) == {**before, "What is your role?": "Assistant headteacher"}

        # Change the NPQ to one with no questions of its own: back again, the SENCO date gone.
        page.get_by_role("link", name="Change which NPQ do you want to apply for?").click()
        answer_radio(page, "Leading Primary Mathematics")
        expect(page).to_have_title(re.compile("^Check your answers"))
        after = summary(page)
        assert after["Which NPQ do you want to apply for?"] == "Leading Primary Mathematics"
        assert "When did you become a SENCO?" not in after
        unchanged = set(before) - {"Which NPQ do you want to apply for?", "When did you become a SENCO?"}
        assert {k: after[k] for k in unchanged} == {
            **{k: before[k] for k in unchanged},
            "What is your role?": "Assistant headteacher",
        }

        # An NPQ with questions of its own asks only those (and shows the new funding result).
        page.get_by_role("link", name="Change which NPQ do you want to apply for?").click()
        answer_radio(page, "Early Headship Coaching Offer")
        answer_radio(page, "Yes")  # a headteacher...
        expect(page).to_have_title(re.compile("^Error: "))  # ...for how long?
        page.get_by_label("How many years have you been a headteacher?").fill("2")
        continue_(page)
        page.get_by_label("I have completed it").check()
        page.get_by_label("No", exact=True).check()
        continue_(page)
        assert "You are likely to get scholarship funding" in page.content()
        continue_(page)
        expect(page).to_have_title(re.compile("^Check your answers"))
        final = summary(page)
        assert {k: final[k] for k in unchanged} == {k: after[k] for k in unchanged}
        assert final["Are you a headteacher?"] == "Yes"
        both_widths(page, "check-answers-after-changes")

        # A place already held on this NPQ in the intake: submitting is refused, with a link to it.
        held = CourseFactory(
            cohort=CohortFactory(identifier="2027-spring"),
            programme=Programme.objects.get(code="EHCO"),
            delivery_start=senco_cohort.start_date,
        )
        ParticipantFactory(user=Application.objects.get().user, group=GroupFactory(course=held))
        page.get_by_role("link", name="Change which NPQ do you want to apply for?").click()
        assert (
            "You already have a place on Early Headship Coaching Offer"
            in page.locator("#places-held").inner_text()
        )
        both_widths(page, "course-place-held")
        page.get_by_role("link", name="Back").click()
        page.get_by_role("button", name="Submit application").click()
        expect(page).to_have_title(re.compile("^Error: Check your answers"))
        assert (
            "You already have a place on Early Headship Coaching Offer"
            in page.locator(".govuk-error-summary").inner_text()
        )
        both_widths(page, "check-answers-place-held")
        page.locator(".govuk-error-summary a").click()
        expect(page.locator("h1")).to_have_text("Early Headship Coaching Offer")
        page.goto(f"{base}/applications/{Application.objects.get().pk}/")
        assert "2027-spring" not in page.locator("main").inner_text()  # the intake in words
        both_widths(page, "application-draft")
    assert not mail.outbox


def test_the_funding_checker_for_a_workplace_not_listed(live_server, chromium_path, senco_cohort):
    base = live_server.url
    with browser_page(chromium_path) as page:
        page.set_viewport_size(DESKTOP)
        page.goto(f"{base}/check-funding/")
        page.get_by_role("button", name="Start now").click()
        answer_radio(page, "Senior Leadership")
        answer_radio(page, "Yes")
        answer_radio(page, "A school")
        page.get_by_label("What is the name, URN or postcode of your workplace?").fill("Hillside")
        continue_(page)
        expect(page).to_have_title(re.compile("^Error: "))
        both_widths(page, "checker-workplace-not-found")
        page.get_by_role("link", name="My workplace is not listed", exact=True).click()
        assert page.locator(".govuk-error-summary").count() == 0
        page.get_by_label("Name of your workplace").fill("Hillside School")
        page.get_by_label("Postcode").fill("me1 1aa")
        both_widths(page, "checker-workplace-not-listed")
        continue_(page)
        expect(page.locator("h1")).to_have_text("Your funding needs to be checked")
        assert "We could not find your workplace" in page.locator("#funding-reason").inner_text()
        both_widths(page, "checker-result-not-listed")
        # Change the NPQ from the result: the workplace is kept.
        page.get_by_role("link", name="Change which NPQ do you want to do?").click()
        answer_radio(page, "Headship")
        expect(page.locator("h1")).to_have_text("Your funding needs to be checked")
        assert "Hillside School, ME1 1AA" in page.locator(".govuk-summary-list").inner_text()
