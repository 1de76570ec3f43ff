"""Request ids in logs and responses, JSON logs in production, error reports without personal data."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlencode
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from celery import shared_task
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from npq_portal.observability import json_formatter, scrub_event, sentry_init
from tests.test_settings import PRODUCTION_ENV, run_manage

logger = logging.getLogger("portal.test")
EMAIL = "alice.smith@school.example"


def logs_a_line(request: HttpRequest) -> HttpResponse:
    logger.warning("in the view")
    return HttpResponse("ok")


@csrf_exempt
def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"No school found for {request.POST['email']}")


urlpatterns = [path("logs", logs_a_line), path("fails", fails)]


@shared_task(name="tests.test_observability.logs_in_a_task")
def logs_in_a_task() -> str:
    logger.warning("in the task")
    return "done"


@pytest.fixture
def console() -> Iterator[logging.Handler]:
    """The handler settings.LOGGING gives the root logger, writing into memory for the test."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream, formatter = handler.setStream(io.StringIO()), handler.formatter
    handler.setFormatter(json_formatter())
    yield handler
    handler.setStream(stream)
    handler.setFormatter(formatter)


def records(handler: logging.Handler) -> list[dict]:
    return [json.loads(line) for line in handler.stream.getvalue().splitlines()]


# --- Request ids ---------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_sane_request_id_from_the_proxy_is_kept_in_logs_and_the_response(client, console):
    response = client.get("/logs", headers={"X-Request-ID": "3f2a9c1e-77b0-4c1b-9a55-0d9f1c2e4b6a"})
    assert response["X-Request-ID"] == "3f2a9c1e-77b0-4c1b-9a55-0d9f1c2e4b6a"
    [line] = [r for r in records(console) if r["message"] == "in the view"]
    assert line["request_id"] == "3f2a9c1e-77b0-4c1b-9a55-0d9f1c2e4b6a"
    assert line["level"] == "WARNING" and line["logger"] == "portal.test" and line["time"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "offered", ["", "two words", "id\r\nX-Injected: 1", "x" * 129, "<script>", "émoji😀", "-leading-dash"]
)
def test_an_odd_request_id_is_replaced_by_a_fresh_one(client, console, offered):
    response = client.get("/logs", headers={"X-Request-ID": offered})
    generated = response["X-Request-ID"]
    assert generated != offered and len(generated) == 32 and int(generated, 16) >= 0
    [line] = [r for r in records(console) if r["message"] == "in the view"]
    assert line["request_id"] == generated


@pytest.mark.urls(__name__)
def test_each_request_gets_its_own_id_and_none_leaks_outside_a_request(client, console):
    first, second = client.get("/logs")["X-Request-ID"], client.get("/logs")["X-Request-ID"]
    assert first != second
    logger.warning("outside")
    ids = [r["request_id"] for r in records(console)]
    assert ids == [first, second, None]


@pytest.mark.django_db
def test_healthz_answers_with_a_request_id(client):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32


def test_celery_task_logs_carry_the_task_id_and_name(console):
    assert logs_in_a_task.apply(task_id="7d1c6a2e-task").get() == "done"
    logger.warning("after the task")
    lines = {r["message"]: r for r in records(console)}
    during, after = lines["in the task"], lines["after the task"]
    assert during["message"] == "in the task"
    assert during["task_id"] == "7d1c6a2e-task"
    assert during["task_name"] == "tests.test_observability.logs_in_a_task"
    assert after["task_id"] is None and after["task_name"] is None


def test_production_logs_are_json_lines_and_check_deploy_stays_clean():
    env = {
        **PRODUCTION_ENV,
        "CACHE_URL": "redis://127.0.0.1:6379/2",
        "SENTRY_DSN": "http://public@127.0.0.1:9/1",
    }
    check = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert check.returncode == 0, check.stdout + check.stderr
    result = run_manage(
        "shell", "--no-imports", "-c", "import logging; logging.getLogger('portal').warning('hello')", **env
    )
    [line] = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert line["message"] == "hello" and line["level"] == "WARNING" and line["request_id"] is None
    plain = run_manage(
        "shell", "--no-imports", "-c", "import logging; logging.getLogger('portal').warning('hello')"
    )
    assert "WARNING portal hello" in plain.stderr and "{" not in plain.stderr


def test_an_unknown_log_format_is_refused():
    result = run_manage("check", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


# --- Error reports -------------------------------------------------------------------------------


class CapturedEnvelopes(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def sentry_capture(monkeypatch) -> Iterator[list[bytes]]:
    """A local stand-in for Sentry, and the portal's Sentry client pointed at it."""
    received: list[bytes] = []
    handler = type("Handler", (CapturedEnvelopes,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    sentry = sentry_init(dsn=f"http://public@127.0.0.1:{server.server_port}/1", environment="test")
    try:
        yield received
    finally:
        sentry.close(timeout=5)
        sentry_sdk.get_global_scope().set_client(None)  # no Sentry for the tests that follow
        assert not sentry_sdk.get_client().is_active()
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_error_reaches_sentry_without_the_request_body_or_any_email_address(sentry_capture):
    response = Client(raise_request_exception=False).post(
        f"/fails?next=/home&email={EMAIL}&token=s3cret-link-token",
        {"email": EMAIL, "trn": "1234567", "notes": "private notes"},
        headers={"Cookie": "sessionid=abc123secret"},
    )
    assert response.status_code == 500
    assert sentry_sdk.get_client().flush(timeout=5) is None
    assert sentry_capture, "no envelope reached the capture server"
    envelope = b"\n".join(sentry_capture).decode()
    assert "RuntimeError" in envelope and "No school found for [email]" in envelope
    for secret in (
        EMAIL,
        EMAIL.replace("@", "%40"),
        "private notes",
        "1234567",
        "s3cret-link-token",
        "abc123",
    ):
        assert secret not in envelope, secret
    event = next(json.loads(line) for line in envelope.splitlines() if '"exception"' in line)
    assert "data" not in event["request"] and "cookies" not in event["request"]
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert event["environment"] == "test"
    assert sentry_sdk.get_client().should_send_default_pii() is False


@pytest.mark.urls(__name__)
def test_through_the_wsgi_handler_url_query_headers_and_address_are_scrubbed_too(sentry_capture):
    """As gunicorn runs the portal: Sentry's WSGI layer adds the URL, query string and headers."""
    body = urlencode({"email": EMAIL, "notes": "private notes"}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/fails",
        "QUERY_STRING": f"email={quote(EMAIL)}&page=2&token=s3cret-link-token",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": "csrftoken=abc123secret; theme=dark",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "HTTP_X_REQUEST_ID": "req-from-proxy-42",
        "REMOTE_ADDR": "203.0.113.9",
    }
    setup_testing_defaults(environ)
    # A request starts by closing unusable connections, which asks an open one (left by an
    # earlier database test in this process) for its state: this test may not touch the database.
    connections.close_all()
    statuses = []
    response = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(response)
    response.close()
    assert statuses == ["500 Internal Server Error"]
    sentry_sdk.get_client().flush(timeout=5)
    envelope = b"\n".join(sentry_capture).decode()
    event = next(json.loads(line) for line in envelope.splitlines() if '"exception"' in line)
    request = event["request"]
    assert request["method"] == "POST" and request["url"] == "http://testserver/fails"
    assert request["query_string"] == "email=%5BFiltered%5D&page=2&token=%5BFiltered%5D"
    assert "data" not in request and "cookies" not in request
    assert event["tags"]["request_id"] == "req-from-proxy-42"
    for secret in (EMAIL, quote(EMAIL), "private notes", "s3cret-link-token", "abc123secret", "203.0.113.9"):
        assert secret not in envelope, secret


def test_scrub_event_removes_personal_data_everywhere():
    event = {
        "message": f"Could not email {EMAIL}",
        "exception": {"values": [{"type": "ValueError", "value": f"bad address <{EMAIL}>"}]},
        "extra": {"to": [EMAIL, "ok"], "nested": {"deep": f"x {EMAIL.upper()} y"}},
        "breadcrumbs": {"values": [{"message": f"sent to {EMAIL}"}]},
        "user": {"id": 7, "email": EMAIL, "ip_address": "203.0.113.9", "username": "alice"},
        "request": {
            "url": "https://npq.example.org/endorse/kT0x8vQ2m9Lw3zR5yB7nC1dF4gH6jJ8k/",
            "query_string": f"email={EMAIL}&page=2&token=abc",
            "data": {"email": EMAIL, "trn": "1234567"},
            "cookies": {"sessionid": "secret"},
            "headers": {"Cookie": "sessionid=secret", "Authorization": "Bearer x", "User-Agent": "UA"},
            "env": {"REMOTE_ADDR": "203.0.113.9", "SERVER_NAME": "web"},
        },
    }
    scrubbed = scrub_event(event, {})
    text = json.dumps(scrubbed)
    for secret in (
        EMAIL,
        EMAIL.upper(),
        "203.0.113.9",
        "1234567",
        "secret",
        "Bearer",
        "kT0x8vQ2m9Lw",
        "alice",
    ):
        assert secret not in text, secret
    assert scrubbed["message"] == "Could not email [email]"
    assert scrubbed["exception"]["values"][0]["value"] == "bad address <[email]>"
    assert scrubbed["user"] == {"id": 7}
    assert scrubbed["request"]["url"] == "https://npq.example.org/endorse/[Filtered]/"
    assert scrubbed["request"]["query_string"] == "email=%5BFiltered%5D&page=2&token=%5BFiltered%5D"
    assert scrubbed["request"]["headers"]["User-Agent"] == "UA"
