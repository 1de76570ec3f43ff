"""The privacy pages the demo crawl cannot reach (a copy being made or ready, the erasure
confirmation reached by a post, the retention report) pass axe, and the person's pages fit 375 px;
a superuser erases a person through the pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import sync_playwright

from privacy.models import ErasureRecord, SubjectAccessExport
from tests.browser import CHROMIUM_ARGS, sign_in
from tests.factories import PASSWORD, HubStaffFactory, ParticipantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.MEDIA_ROOT = tmp_path


def axe_violations(page) -> list[str]:
    page.wait_for_function(
        "() => !document.querySelector('script[src*=\"admin-portal/accessibility.js\"]')"
        " || document.documentElement.hasAttribute('data-accessibility-fixed')"
    )
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    return [f"{page.url}: {v['id']} {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]]


def a_copy(person, status: str) -> SubjectAccessExport:
    now = timezone.now()
    export = SubjectAccessExport(
        person=person, requested_by=person, status=status, created_at=now, parts_total=30, parts_done=12
    )
    if status == "done":
        export.finished_at, export.expires_at = now, now + timedelta(days=7)
        export.file.save("copy.zip", ContentFile(b"PK\x05\x06" + bytes(18)), save=False)
    export.save()
    return export


def test_the_privacy_pages_pass_axe_and_a_person_is_erased_through_them(live_server, chromium_path):
    participant = ParticipantFactory(trn="1234567")
    person = participant.user
    hub = participant.course.cohort.hub
    ready = a_copy(person, "done")
    a_copy(person, "running")
    HubStaffFactory(hub=hub)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    problems: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # axe is injected as a script of its own: the page's Content-Security-Policy is bypassed.
            page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(15_000)
            sign_in(page, live_server.url, person.email, PASSWORD)
            for path in ("/your-data/", "/privacy/"):
                page.goto(live_server.url + path)
                problems += axe_violations(page)
                page.set_viewport_size({"width": 375, "height": 800})
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 375:
                    problems.append(f"{path} is {width} px wide at 375 px")
                page.set_viewport_size({"width": 1280, "height": 800})
            page.goto(live_server.url + "/your-data/")
            assert page.get_by_text("Being prepared: 40% done.").is_visible()

            sign_in(page, live_server.url, superuser.email, PASSWORD, user=superuser)
            for path in (
                f"/admin/privacy/subjectaccessexport/{ready.pk}/change/",
                "/admin/privacy/retentionrule/next-month/",
                "/admin/privacy/accesslogentry/",
                "/admin/privacy/erasurerecord/erase/",
            ):
                page.goto(live_server.url + path)
                problems += axe_violations(page)
            page.get_by_label("Email address of the person").fill(person.email)
            page.get_by_role("button", name="Show what would be erased").click()
            page.wait_for_load_state()
            assert page.get_by_role("heading", name="Erase this person?").is_visible()
            problems += axe_violations(page)
            page.get_by_role("button", name="Erase this person").click()
            page.wait_for_load_state()
            problems += axe_violations(page)
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    assert ErasureRecord.objects.get().account_id == person.pk
    participant.refresh_from_db()
    assert participant.trn == ""
