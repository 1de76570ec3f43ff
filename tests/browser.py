"""Helpers for browser tests: Playwright driving Debian's Chromium (no downloaded browsers)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.factories import totp_code

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def browser_page(chromium_path: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            # Every page visited must keep to the Content-Security-Policy (no inline script).
            refused: list[str] = []
            page.on(
                "console",
                lambda message: (
                    refused.append(f"{page.url}: {message.text}")
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            yield page
            assert not refused, "\n".join(refused)
        finally:
            browser.close()


def sign_in(page: Page, base: str, email: str, password: str, *, user=None) -> None:
    """Sign in through the portal's sign-in page, giving the authenticator code when asked."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("^sign in$", re.IGNORECASE)).click()
    page.wait_for_load_state()
    # A code read just before its 30 seconds end is refused once the next begin: then the next
    # code is given, as a person would type the one their app shows next.
    for _ in range(2):
        if "/2fa/authenticate" not in page.url:
            break
        page.get_by_label("Enter the code from your authenticator app").fill(totp_code(user))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
    assert "/2fa/authenticate" not in page.url and "/accounts/login" not in page.url, page.url


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
