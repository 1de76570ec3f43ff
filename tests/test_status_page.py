"""The footer's "Service status" is a page for people, in words; /healthz stays JSON for machines."""

import pytest

from npq_portal import health
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_footer_links_to_a_status_page_in_words(client):
    html = client.get("/").content.decode()
    assert 'href="/status">Service status</a>' in html and 'href="/healthz"' not in html
    response = client.get("/status")
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "<title>Service status – NPQ Portal</title>" in page
    assert "The service is working." in page
    assert '"status"' not in page and "eager" not in page


def test_a_broker_problem_is_described_by_what_it_means(client, monkeypatch):
    monkeypatch.setattr(health, "broker_status", lambda: "error: OperationalError")
    page = client.get("/status").content.decode()
    assert "Part of the service is not working properly." in page
    assert "Emails and reminders may be late." in page
    assert "OperationalError" not in page and "The service is working" not in page


def test_the_status_page_still_shows_when_the_database_is_down(client, monkeypatch):
    client.force_login(UserFactory())
    monkeypatch.setattr(health, "database_status", lambda: "error: OperationalError")
    response = client.get("/status")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Pages may not load" in page and "OperationalError" not in page
    assert "Sign out" not in page  # drawn without the session, which lives in the database


def test_healthz_is_still_json_for_machines(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert response.json()["database"] == "ok"
