"""Logs that can be followed across a request or a task, and error reports without personal data.

- ``RequestIdMiddleware`` takes the proxy's ``X-Request-ID`` when it is a sane token (else makes
  one), returns it on the response and keeps it in a context variable for the request.
- ``LogContextFilter`` puts that request id, and the Celery task id and name when a task is
  running, on every log record; the JSON formatter (``LOG_FORMAT=json``) writes them out.
- ``sentry_init`` starts error reporting when ``SENTRY_DSN`` is set; ``scrub_event`` removes
  request bodies, cookies, secrets in URLs, the user's email and address, and every email
  address anywhere else in the event before it leaves the process.

This module is imported by settings: it must not touch Django settings or models at import.
"""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from celery import current_task

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's request id looks like (nginx's $request_id, a UUID, an AWS trace id): short,
# printable and without spaces, so it cannot forge a log line or a response header.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every log line of the request, and the response, carry the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        rid = offered if SANE_REQUEST_ID.fullmatch(offered) else new_request_id()
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response


class LogContextFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` (None when not in one) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        task = current_task
        task_id = getattr(task.request, "id", None) if task else None
        record.task_id = task_id
        record.task_name = task.name if task_id else None
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time, level, logger, message, request and task ids, traceback."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s %(task_name)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",  # ISO 8601 in UTC
    )


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Django's LOGGING: plain text lines, or JSON lines (production's default)."""
    formatters: dict[str, Any] = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "npq_portal.observability.json_formatter"},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "npq_portal.observability.LogContextFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["context"]}
        },
        "root": {"handlers": ["console"], "level": level},
    }


# --- Error reporting (Sentry) -------------------------------------------------------------------

FILTERED = "[Filtered]"
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# Secret links carry long random tokens in their path (endorsement, check-in, calendar feed).
PATH_TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_-]{20,}(?=[/.]|$)")
SENSITIVE_KEY = re.compile(r"token|key|secret|pass|code|sig|auth|session|csrf|email|cookie", re.I)
SENSITIVE_HEADERS = {"cookie", "authorization", "x-csrftoken", "proxy-authorization", "x-api-key"}


def _scrub_strings(value: Any) -> Any:
    """Every email address in every string of a JSON-like structure becomes [email]."""
    if isinstance(value, str):
        return EMAIL.sub("[email]", value)
    if isinstance(value, dict):
        return {key: _scrub_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_strings(item) for item in value]
    return value


def _scrub_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, FILTERED if SENSITIVE_KEY.search(key) else value) for key, value in pairs])


def _scrub_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(path=PATH_TOKEN.sub(FILTERED, parts.path), query=_scrub_query(parts.query))
    )


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: what reaches Sentry says what broke, not who it happened to."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        if isinstance(request.get("url"), str):
            request["url"] = _scrub_url(request["url"])
        if isinstance(request.get("query_string"), str):
            request["query_string"] = _scrub_query(request["query_string"])
        if isinstance(request.get("headers"), dict):
            request["headers"] = {
                name: FILTERED if name.lower() in SENSITIVE_HEADERS else value
                for name, value in request["headers"].items()
            }
        env = request.get("env")
        if isinstance(env, dict):
            env.pop("REMOTE_ADDR", None)
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    rid = request_id.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return _scrub_strings(event)


def sentry_init(*, dsn: str, environment: str, **options: Any):
    """Start error reporting (Django, Celery and ERROR logs); returns the Sentry client."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    with warnings.catch_warnings():
        # This SDK prefers `data_collection` to `send_default_pii`, but setting it switches off
        # the SDK's own event scrubber (passwords, tokens, sessions by key); keep both layers.
        warnings.filterwarnings("ignore", "The send_default_pii option is deprecated", DeprecationWarning)
        sentry_sdk.init(
            dsn=dsn,
            environment=environment,
            integrations=[DjangoIntegration(), CeleryIntegration()],
            send_default_pii=False,
            max_request_body_size="never",  # request bodies are never read for an event
            include_local_variables=False,  # a frame's variables may hold anyone's details
            before_send=scrub_event,
            before_send_transaction=scrub_event,
            **options,
        )
    return sentry_sdk.get_client()
