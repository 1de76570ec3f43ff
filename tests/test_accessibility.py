"""Every page a person reads passes axe (WCAG 2.2 AA), for every kind of user, on the demo data.

The test signs in as each demo account and crawls the portal from its start pages, following
same-site links (one page per address pattern: ids are replaced, so 50 participants cost one
visit), and runs axe-core (vendored from npm under tests/vendor, never served) on each page.
Pages a person reads at a phone's width must also fit 375 px.
"""

from __future__ import annotations

import re
from collections import deque
from io import StringIO
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from accounts.models import User
from applications.models import Application
from programmes.models import Participant
from tests.browser import ARTIFACTS, CHROMIUM_ARGS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Links that are not pages to read: downloads, feeds, machine endpoints, and pages that change
# something on GET (none should, but a crawler must never find out the hard way).
SKIP = re.compile(
    r"(/delete/|/logout|\.ics$|\.csv|/export|/response$|/case-study$|/healthz|download|"
    r"format=csv|/calendar/new-address|/2fa/totp/deactivate|/2fa/recovery-codes/generate|/jsi18n|/static/|/media/)"
)


def pattern(path: str) -> str:
    """One visit per kind of page: numbers and tokens become placeholders."""
    path = re.sub(r"/\d+(?=/|$)", "/N", path)
    return re.sub(r"/[A-Za-z0-9_-]{20,}(?=/|$)", "/TOKEN", path)


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Crawl:
    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.violations: list[str] = []
        self.overflowing: list[str] = []
        self.visited: dict[str, str] = {}
        self.admin_seen: set[str] = set()

    def run(self, role: str, start: list[str]) -> None:
        """Visit each kind of page once: admin pages once for all staff roles (the first role
        to reach one), the portal's own pages once per role (each role sees different things)."""
        queue = deque(start)
        seen_here: set[str] = set()
        while queue:
            path = queue.popleft()
            kind = pattern(urlsplit(path).path)
            seen = self.admin_seen if kind.startswith("/admin/") and kind != "/admin/" else seen_here
            if kind in seen or SKIP.search(path):
                continue
            seen.add(kind)
            try:
                response = self.page.goto(self.base + path)
            except PlaywrightError as error:  # a download, not a page
                if "Download is starting" in str(error):
                    continue
                raise
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            self.visited[f"{role} {path}"] = f"{response.status} {self.page.title()}"
            if response.status >= 500:
                self.violations.append(f"{role} {path}: the server failed ({response.status})")
                continue
            self.check(role, path)
            for href in self.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                href = urldefrag(urljoin(self.base + path, href))[0]
                if href.startswith(self.base):
                    queue.append(href[len(self.base) :])

    def check(self, role: str, path: str) -> None:
        # Admin pages: wait for admin's widgets and the portal's fixes to them to be built.
        try:
            self.page.wait_for_function(
                "() => !document.querySelector('script[src*=\"admin-portal/accessibility.js\"]')"
                " || document.documentElement.hasAttribute('data-accessibility-fixed')"
            )
        except PlaywrightError:
            self.violations.append(f"{role} {path}: the admin accessibility fixes never ran")
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
        )
        for violation in result["violations"]:
            targets = ", ".join(str(n["target"]) for n in violation["nodes"][:3])
            self.violations.append(f"{role} {path}: {violation['id']} ({violation['impact']}) {targets}")
        if not path.startswith("/admin/"):
            self.page.set_viewport_size({"width": 375, "height": 800})
            width = self.page.evaluate("document.documentElement.scrollWidth")
            if width > 375:
                self.overflowing.append(f"{role} {path}: {width} px wide")
                screenshot(self.page, "overflow-" + re.sub(r"\W+", "-", path).strip("-"))
            self.page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_every_page_of_the_demo_passes_axe_and_fits_a_phone(live_server, chromium_path):
    from playwright.sync_api import sync_playwright

    out = StringIO()
    call_command("seed_demo", stdout=out)
    endorsement_link = urlsplit(
        re.search(r"Endorsement request emailed to \S+: (\S+)", out.getvalue()).group(1)
    )
    alice = User.objects.get(email="alice@demo.npq-portal.test")
    participant = Participant.objects.filter(user=alice).first()
    application = Application.objects.filter(user=alice).first()

    roles = {
        "visitor": (
            None,
            [
                "/",
                "/accounts/login/",
                "/accounts/signup/",
                "/accounts/password/reset/",
                "/check-funding/",
                "/privacy/",
                endorsement_link.path,
            ],
        ),
        "participant": (
            alice,
            [
                "/",
                f"/enrolments/{participant.pk}/",
                f"/applications/{application.pk}/",
                "/apply/",
                "/calendar/",
                "/reminders/",
                "/your-data/",
                "/accounts/2fa/",
            ],
        ),
        "headteacher": ("hana@demo.npq-portal.test", ["/", endorsement_link.path]),
        "hub staff": (
            "sam@demo.npq-portal.test",
            ["/admin/", "/marking/", "/admin/dfe/declaration/cohorts/"],
        ),
        "facilitator": ("fran@demo.npq-portal.test", ["/admin/"]),
        "superuser": ("admin@demo.npq-portal.test", ["/admin/"]),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(15_000)
            crawl = Crawl(page, live_server.url)
            for role, (who, start) in roles.items():
                context.clear_cookies()
                if who is not None:
                    user = who if isinstance(who, User) else User.objects.get(email=who)
                    context.add_cookies(
                        [{"name": "sessionid", "value": session_cookie(user), "url": live_server.url}]
                    )
                crawl.run(role, start)
        finally:
            browser.close()

    ARTIFACTS.mkdir(exist_ok=True)
    Path(ARTIFACTS, "accessibility-pages.txt").write_text(
        "\n".join(f"{k}  [{v}]" for k, v in sorted(crawl.visited.items()))
    )
    assert len(crawl.visited) > 60, sorted(crawl.visited)
    assert not crawl.violations + crawl.overflowing, "\n".join(crawl.violations + crawl.overflowing)
