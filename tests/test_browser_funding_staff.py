"""The staff pages of issue 14 (parts 3 to 5) in a real browser, checked with axe (WCAG 2.2 AA):
the review queue and a review with its error, an application's funded place change with its
error summary, a funding round's lists, and a list's replacement history."""

from pathlib import Path

import pytest

from applications.services import application_accept
from funding.imports import import_eligibility_list
from funding.models import EligibilityListChange, FundingRound
from funding.services import funding_decision_assess
from programmes.models import Programme
from tests.browser import CHROMIUM_ARGS
from tests.factories import CourseFactory, GroupFactory, HubStaffFactory, UserFactory
from tests.test_accessibility import session_cookie
from tests.test_funded_places import endorsed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def ready(page) -> None:
    """Admin's widgets and the portal's fixes to them are built (before clicking or checking)."""
    page.wait_for_function(
        "() => !document.querySelector('script[src*=\"admin-portal/accessibility.js\"]')"
        " || document.documentElement.hasAttribute('data-accessibility-fixed')"
    )


def violations(page) -> list[str]:
    ready(page)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    return [
        f"{page.url}: {v['id']} {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
    ]


def test_the_funding_staff_pages_pass_axe(live_server, chromium_path):
    course = CourseFactory(programme=Programme.objects.get(code="NPQH"), funded_places=1)
    GroupFactory(course=course, capacity=5, name="Group A")
    staff = HubStaffFactory(hub=course.cohort.hub, email="sam@hub.example")
    accepted = application_accept(application=endorsed(course, eligible=True), by=staff)
    review = funding_decision_assess(
        user=UserFactory(),
        course=course,
        answers={"in_england": True, "work_setting": "another_setting", "employment_type": "hospital_school"},
    ).review
    round_2025 = FundingRound.objects.get(code="2025")
    import_eligibility_list(b"RISE School URN\r\n140101\r\n140102\r\n", funding_round=round_2025)
    change = EligibilityListChange.objects.get()
    superuser = UserFactory(is_staff=True, is_superuser=True, email="root@portal.example")
    found: list[str] = []
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        # axe is added to each page as a script, which the portal's CSP would refuse.
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        context.add_cookies([{"name": "sessionid", "value": session_cookie(staff), "url": live_server.url}])
        page.goto(f"{live_server.url}/admin/funding/fundingreview/?status__exact=needs_review&age=week")
        found += violations(page)
        page.goto(f"{live_server.url}/admin/funding/fundingreview/{review.pk}/change/")
        ready(page)
        page.get_by_label("Re-register").check()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#content")).to_contain_text("Enter a note saying why")  # waits for the answer
        found += violations(page)
        page.goto(f"{live_server.url}/admin/applications/application/{accepted.pk}/funded-place/")
        ready(page)
        page.get_by_role("button", name="Change the funded place").click()
        expect(page.locator("body")).to_contain_text("There is a problem")
        found += violations(page)
        page.goto(f"{live_server.url}/admin/applications/application/{accepted.pk}/change/")
        found += violations(page)
        context.clear_cookies()
        context.add_cookies(
            [{"name": "sessionid", "value": session_cookie(superuser), "url": live_server.url}]
        )
        for path in (
            f"/admin/funding/fundinground/{round_2025.pk}/change/",
            "/admin/funding/eligibilitylistchange/",
            f"/admin/funding/eligibilitylistchange/{change.pk}/change/",
            f"/admin/funding/importrun/add/?kind=eligibility_list&funding_round={round_2025.pk}",
        ):
            page.goto(live_server.url + path)
            assert page.title()
            found += violations(page)
        browser.close()
    assert found == []
