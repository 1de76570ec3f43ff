"""Sign-in in a real headless Chromium, including the error path."""

import pytest

from tests.browser import browser_page, screenshot
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls here are
    # still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_a_teacher_signs_in_after_a_mistake(live_server, chromium_path):
    UserFactory(email="alice@school.example", full_name="Alice Adeyemi")
    with browser_page(chromium_path) as page:
        page.goto(f"{live_server.url}/")
        page.get_by_role("link", name="Sign in").first.click()
        page.get_by_label("Email").fill("alice@school.example")
        page.get_by_label("Password").fill("not-my-password")
        page.get_by_role("button", name="Sign In").click()

        assert page.title().startswith("Error: ")
        summary = page.locator(".govuk-error-summary")
        assert "not correct" in summary.inner_text()
        screenshot(page, "sign-in-error")

        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{live_server.url}/")
        assert page.get_by_role("heading", name="Your NPQs").is_visible()
        screenshot(page, "signed-in-home")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()
        assert page.get_by_role("link", name="Sign in").first.is_visible()
