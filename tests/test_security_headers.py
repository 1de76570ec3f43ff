"""Headers on every page: a Content-Security-Policy with no inline script, a Permissions-Policy,
and no caching of pages that show personal data."""

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.factories import ApplicationFactory, HubFactory, HubStaffFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


def test_pages_carry_a_content_security_policy_that_forbids_inline_script(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_no_template_of_the_portal_has_an_inline_script():
    offenders = [
        str(path.relative_to(ROOT))
        for path in Path(ROOT, "templates").rglob("*.html")
        if INLINE_SCRIPT.search(path.read_text())
    ]
    assert offenders == []


def test_rendered_pages_have_no_inline_script(client):
    for path in ("/", "/accounts/login/", "/accounts/signup/", "/check-funding/"):
        html = client.get(path).content.decode()
        assert not INLINE_SCRIPT.search(html), path


def test_permissions_policy_switches_off_features_the_portal_never_uses(client):
    policy = client.get("/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_pages_with_personal_data_are_never_stored_by_browsers_or_proxies(client):
    application = ApplicationFactory()
    client.force_login(application.user)
    for path in (f"/applications/{application.pk}/", "/"):
        cache_control = client.get(path)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, path

    participant = ParticipantFactory()
    client.force_login(participant.user)
    assert "no-store" in client.get(f"/enrolments/{participant.pk}/")["Cache-Control"]

    staff = HubStaffFactory(hub=HubFactory())
    client.force_login(staff)
    for path in ("/admin/", "/marking/", "/admin/applications/application/"):
        assert "no-store" in client.get(path)["Cache-Control"], path


def test_endorsement_links_are_not_cached_even_when_unknown(client):
    assert "no-store" in client.get("/endorse/not-a-real-token/")["Cache-Control"]
