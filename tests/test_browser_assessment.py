"""Submit then mark, in a real headless Chromium."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assessment.models import MarkingAssignment, Submission
from assessment.services import markers_assign, results_release, window_create
from engagement.models import EngagementTally
from tests.browser import browser_page, screenshot, sign_in
from tests.factories import PASSWORD, CourseFactory, GroupFactory, HubStaffFactory, ParticipantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_a_participant_submits_and_a_marker_marks(live_server, chromium_path):
    course = CourseFactory(delivery_end=timezone.localdate())
    group = GroupFactory(course=course)
    participant = ParticipantFactory(group=group, user__email="alice@school.example", trn="1234567")
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal(96),
        done_weight=24,
        due_weight=25,
        on_track=True,
        computed_at=timezone.now(),
    )
    window = window_create(
        course=course, case_study_text="Riverside School has seen exclusions double this year."
    )
    marker = HubStaffFactory(email="marker@hub.example", hub=course.cohort.hub)
    base = live_server.url
    with browser_page(chromium_path) as page:
        sign_in(page, base, "alice@school.example", PASSWORD)
        page.goto(f"{base}/enrolments/{participant.pk}/")
        page.get_by_role("link", name="Your summative assessment").click()
        assert "Riverside School has seen exclusions double" in page.locator("#case-study").inner_text()
        page.get_by_label("Your response", exact=True).fill(" ".join(["word"] * 1501))
        page.get_by_role("button", name="Submit your response").click()
        assert page.title().startswith("Error: ")
        assert "It must be 1,500 words or fewer." in page.locator(".govuk-error-summary").inner_text()
        page.get_by_label("Your response", exact=True).fill(
            "Exclusions rose because routines were inconsistent. " * 20
        )
        page.get_by_role("button", name="Submit your response").click()
        assert "Your response has been submitted" in page.content()
        assert "(120 words) is the one that counts" in page.locator("#counted").inner_text()
        screenshot(page, "assessment-submitted")

        assert markers_assign(window=window, markers=[marker]) == 1
        sign_in(page, base, "marker@hub.example", PASSWORD, user=marker)
        page.goto(f"{base}/marking/")
        page.locator("#scripts a").first.click()
        assert "routines were inconsistent" in page.locator("#script-text").inner_text()
        page.get_by_role("button", name="Save mark").click()
        assert "Choose pass or fail" in page.locator(".govuk-error-summary").inner_text()
        page.get_by_label("Pass").check()
        page.get_by_label("Feedback for the participant").fill("A clear diagnosis and a credible plan.")
        page.get_by_role("button", name="Save mark").click()
        assert "Mark saved." in page.content()
        screenshot(page, "assessment-marked")

        results_release(
            window=window,
            by=marker.__class__.objects.get(pk=marker.pk),
            now=window.closes_at + timedelta(days=1),
        )
        sign_in(page, base, "alice@school.example", PASSWORD)
        page.goto(f"{base}/enrolments/{participant.pk}/assessment")
        assert page.locator("#outcome").inner_text().strip() == "Passed"
        assert "1234567" in page.locator("#certificate").inner_text()
        screenshot(page, "assessment-result")
    assert Submission.objects.count() == 1 and MarkingAssignment.objects.get().result == "pass"
