"""The declaration pages pass axe (WCAG 2.2 AA) as hub staff read them: the cohorts, a cohort's
declarations, a participant's evidence, an evidence record and voiding (issue 17)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.utils import timezone

from dfe.declarations import freeze_evidence
from dfe.models import Declaration, DfeApplication, Milestone, Schedule
from engagement.models import Attendance
from tests.browser import CHROMIUM_ARGS
from tests.factories import ActivityFactory, ApplicationFactory, HubStaffFactory, ParticipantFactory
from tests.test_accessibility import Crawl, session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_declaration_pages_pass_axe(live_server, chromium_path):
    from playwright.sync_api import sync_playwright

    participant = ParticipantFactory()
    application = ApplicationFactory(course=participant.course, user=participant.user)
    type(application).objects.filter(pk=application.pk).update(participant=participant)
    dfe_app = DfeApplication.objects.create(
        dfe_id=uuid.uuid4(),
        lead_provider=participant.course.cohort.hub.lead_provider,
        participant_id=uuid.uuid4(),
        course_identifier="npq-leading-teaching",
        cohort="2025",
        status="accepted",
        schedule_identifier="npq-specialist-autumn",
        full_name="Alice Adeyemi",
        dfe_updated_at=timezone.now(),
        application=application,
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    schedule = Schedule.objects.create(
        dfe_cohort="2025", identifier="npq-specialist-autumn", starts_on=date(2025, 9, 1)
    )
    Milestone.objects.create(schedule=schedule, declaration_type="started", milestone_date=date(2025, 12, 1))
    Milestone.objects.create(
        schedule=schedule, declaration_type="retained-1", milestone_date=date(2026, 5, 26)
    )
    activity = ActivityFactory(group=participant.group)
    Attendance.objects.create(participant=participant, activity=activity, status="attended")
    evidence = freeze_evidence(participant, "started", lead_provider_id=dfe_app.lead_provider_id, by=None)
    declaration = Declaration.objects.create(
        dfe_application=dfe_app,
        declaration_type="started",
        declaration_date=timezone.now(),
        delivery_partner_id=uuid.uuid4(),
        evidence=evidence,
        state="eligible",
        dfe_id=uuid.uuid4(),
        created_at=timezone.now(),
    )
    staff = HubStaffFactory(hub=participant.course.cohort.hub)
    pages = [
        "/admin/dfe/declaration/",
        "/admin/dfe/declaration/cohorts/",
        f"/admin/dfe/declaration/cohorts/{participant.course.cohort.pk}/",
        f"/admin/dfe/declaration/participants/{participant.pk}/",
        f"/admin/dfe/evidence/{evidence.pk}/change/",
        f"/admin/dfe/declaration/{declaration.pk}/void/",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
            context.add_cookies(
                [{"name": "sessionid", "value": session_cookie(staff), "url": live_server.url}]
            )
            page = context.new_page()
            crawl = Crawl(page, live_server.url)
            for path in pages:
                response = page.goto(live_server.url + path)
                assert response.status == 200, path
                crawl.check("hub staff", path)
            # The evidence page prints (to PDF) as the page's content alone, without admin's header.
            page.goto(live_server.url + f"/admin/dfe/declaration/participants/{participant.pk}/")
            page.emulate_media(media="print")
            assert not page.locator("#header").is_visible()
            assert not page.locator(".breadcrumbs").is_visible()
            assert page.locator("#content").is_visible()
            assert "started" in page.inner_text("#content").lower()
        finally:
            browser.close()
    assert crawl.violations == []
