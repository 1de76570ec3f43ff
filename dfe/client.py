"""A client for DfE's lead provider API (v3): bearer token, timeouts, retries with backoff on
429 and 5xx, pagination and ``filter[updated_since]``; DfE's 400/422 bodies become words.

Reads are retried freely. A write is retried only when DfE certainly did not act on it (429, or
no connection made); any other failure after the request may have reached DfE is raised as
``DfeUncertain``, and the caller reads DfE back before deciding to send again (dfe/writes.py)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from django.conf import settings

from .timestamps import dfe_time

logger = logging.getLogger(__name__)

API = "/api/v3"
PER_PAGE = 100
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Called with each response received (tests check every request and answer against DfE's schema).
RESPONSE_HOOKS: list[Callable[..., Any]] = []


class DfeError(Exception):
    """Something went wrong talking to DfE; ``str()`` is for staff."""


class DfeUnavailable(DfeError):
    """DfE could not be reached or kept failing: nothing is known to have changed; try later."""


class DfeUncertain(DfeError):
    """A write may or may not have reached DfE (a timeout, a dropped connection, a 5xx)."""


class DfeRefused(DfeError):
    """DfE answered no (400, 401, 403, 404, 422): the reasons are in ``messages``, in words."""

    def __init__(self, status: int, messages: list[str]) -> None:
        self.status = status
        self.messages = messages
        super().__init__(" ".join(messages))


class LinkOff(DfeError):
    """DFE_API_URL is not set: the link to DfE is off."""


def link_on() -> bool:
    return bool(settings.DFE_API_URL)


def _words(status: int, body: Any) -> list[str]:
    """DfE's error bodies ({"errors": [{"title", "detail"}]} or {"error": "..."}) as sentences."""
    if status == 401:
        return ["DfE did not accept the lead provider's API token. Check the token in the DfE API account."]
    if status == 404:
        return ["DfE has no such record for this lead provider."]
    messages: list[str] = []
    if isinstance(body, dict):
        for error in body.get("errors") or []:
            if isinstance(error, dict):
                detail = str(error.get("detail") or "").strip()
                title = str(error.get("title") or "").strip()
                text = detail or title
                if text:
                    messages.append(text if text.endswith((".", "!", "?")) else f"{text}.")
        if not messages and isinstance(body.get("error"), str):
            messages.append(body["error"])
    return messages or [f"DfE refused the request (HTTP {status})."]


@dataclass
class DfeClient:
    base_url: str
    token: str = field(repr=False)  # never in a traceback's local variables or a log line
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    backoff_cap_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session.headers.update(
            {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "User-Agent": "npq-portal",
            }
        )
        self.session.hooks["response"].extend(RESPONSE_HOOKS)

    # --- transport ------------------------------------------------------------------------

    def _wait(self, attempt: int, response: requests.Response | None) -> None:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isascii() and retry_after.isdigit():  # "²".isdigit() too
            delay = min(float(retry_after), self.backoff_cap_seconds)
        else:  # exponential with full jitter
            delay = random.uniform(0, min(self.backoff_cap_seconds, self.backoff_seconds * 2**attempt))
        self.sleep(delay)

    def _request(
        self, method: str, path: str, *, params: dict | None = None, json: dict | None = None
    ) -> Any:
        write = method != "GET"
        url = f"{self.base_url}{API}{path}"
        for attempt in range(self.max_attempts):
            last = attempt == self.max_attempts - 1
            try:
                response = self.session.request(method, url, params=params, json=json, timeout=self.timeout)
            except requests.ConnectTimeout as exc:  # no connection made: DfE cannot have acted
                if last:
                    raise DfeUnavailable("DfE could not be reached (the connection timed out).") from exc
                self._wait(attempt, None)
                continue
            except requests.ConnectionError as exc:
                if write and not _refused_connection(exc):
                    raise DfeUncertain("The connection to DfE dropped before it answered.") from exc
                if last:
                    raise DfeUnavailable("DfE could not be reached.") from exc
                self._wait(attempt, None)
                continue
            except requests.Timeout as exc:  # sent, no answer in time
                if write:
                    raise DfeUncertain("DfE did not answer in time.") from exc
                if last:
                    raise DfeUnavailable("DfE did not answer in time.") from exc
                self._wait(attempt, None)
                continue
            status = response.status_code
            if status in RETRY_STATUSES:
                if write and status != 429:
                    raise DfeUncertain(f"DfE had a problem answering (HTTP {status}).")
                if last:
                    raise DfeUnavailable(
                        "DfE is asking for fewer requests; try again later."
                        if status == 429
                        else f"DfE is not working properly (HTTP {status}); try again later."
                    )
                logger.info("DfE %s %s: HTTP %s, retrying", method, path, status)
                self._wait(attempt, response)
                continue
            try:
                body = response.json()
            except ValueError:
                body = None
            if status >= 400:
                raise DfeRefused(status, _words(status, body))
            if not isinstance(body, dict):
                raise DfeUnavailable("DfE answered with something that is not the API's JSON.")
            return body
        raise AssertionError("unreachable")

    # --- applications ---------------------------------------------------------------------

    def applications_page(
        self, *, updated_since: datetime | None = None, page: int = 1, per_page: int = PER_PAGE
    ) -> list[dict]:
        """One page of the lead provider's applications, oldest change first (``updated_since``
        is inclusive at DfE, so the newest record of the last page comes again: harmless)."""
        params: dict[str, Any] = {"page[page]": page, "page[per_page]": per_page, "sort": "updated_at"}
        if updated_since is not None:
            params["filter[updated_since]"] = dfe_time(updated_since, microseconds=True)
        return self._request("GET", "/npq-applications", params=params)["data"]

    def application_pages(
        self, *, updated_since: datetime | None = None, per_page: int = PER_PAGE
    ) -> Iterator[list[dict]]:
        """Every page; a page shorter than ``per_page`` is the last."""
        page = 1
        while True:
            data = self.applications_page(updated_since=updated_since, page=page, per_page=per_page)
            if data:
                yield data
            if len(data) < per_page:
                return
            page += 1

    def application(self, dfe_id: str) -> dict:
        return self._request("GET", f"/npq-applications/{dfe_id}")["data"]

    def accept(self, dfe_id: str, *, funded_place: bool | None, schedule_identifier: str | None) -> dict:
        attributes: dict[str, Any] = {}
        if funded_place is not None:
            attributes["funded_place"] = funded_place
        if schedule_identifier:
            attributes["schedule_identifier"] = schedule_identifier
        body = {"data": {"type": "npq-application-accept", "attributes": attributes}}
        return self._request("POST", f"/npq-applications/{dfe_id}/accept", json=body)["data"]

    def reject(self, dfe_id: str) -> dict:
        return self._request("POST", f"/npq-applications/{dfe_id}/reject")["data"]

    # --- participants ---------------------------------------------------------------------

    def participants_page(
        self, *, updated_since: datetime | None = None, page: int = 1, per_page: int = PER_PAGE
    ) -> list[dict]:
        """One page of the lead provider's participants, oldest change first (inclusive filter)."""
        params: dict[str, Any] = {"page[page]": page, "page[per_page]": per_page, "sort": "updated_at"}
        if updated_since is not None:
            params["filter[updated_since]"] = dfe_time(updated_since, microseconds=True)
        return self._request("GET", "/participants/npq", params=params)["data"]

    def participant(self, participant_id: str) -> dict:
        return self._request("GET", f"/participants/npq/{participant_id}")["data"]

    def participant_change(self, participant_id: str, action: str, attributes: dict[str, Any]) -> dict:
        """withdraw, defer, resume or change-schedule, with DfE's attributes for it."""
        kinds = {
            "withdraw": "participant-withdraw",
            "defer": "participant-defer",
            "resume": "participant-resume",
            "change-schedule": "participant-change-schedule",
        }
        body = {"data": {"type": kinds[action], "attributes": attributes}}
        return self._request("PUT", f"/participants/npq/{participant_id}/{action}", json=body)["data"]

    # --- declarations ---------------------------------------------------------------------

    def declare(self, attributes: dict[str, Any]) -> dict:
        """Send one declaration (participant_id, declaration_type, declaration_date, course_identifier,
        delivery_partner_id, has_passed for completed)."""
        body = {"data": {"type": "participant-declaration", "attributes": attributes}}
        return self._request("POST", "/participant-declarations", json=body)["data"]

    def outcome(
        self, participant_id: str, *, course_identifier: str, passed: bool, completion_date: str
    ) -> dict:
        """An assessment outcome on its own (the completed declaration was sent before it)."""
        attributes = {
            "course_identifier": course_identifier,
            "state": "passed" if passed else "failed",
            "completion_date": completion_date,
        }
        body = {"data": {"type": "npq-outcome-confirmation", "attributes": attributes}}
        return self._request("POST", f"/participants/npq/{participant_id}/outcomes", json=body)["data"]

    def void(self, declaration_id: str) -> dict:
        return self._request("PUT", f"/participant-declarations/{declaration_id}/void")["data"]

    def declaration(self, declaration_id: str) -> dict:
        return self._request("GET", f"/participant-declarations/{declaration_id}")["data"]

    def declarations(self, *, participant_id: str) -> list[dict]:
        found: list[dict] = []
        page = 1
        while True:
            params = {
                "filter[participant_id]": participant_id,
                "page[page]": page,
                "page[per_page]": PER_PAGE,
            }
            data = self._request("GET", "/participant-declarations", params=params)["data"]
            found.extend(data)
            if len(data) < PER_PAGE:
                return found
            page += 1


def _refused_connection(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (so nothing was sent)."""
    text = repr(exc)
    return "Connection refused" in text or "NewConnectionError" in text or "Name or service not known" in text


def client_for(account) -> DfeClient:
    """The client for a lead provider's DfE account (dfe.models.LeadProviderAccount)."""
    from .crypto import decrypt_token

    if not link_on():
        raise LinkOff("The link to DfE is off (DFE_API_URL is not set).")
    if not account.has_token:
        raise DfeRefused(401, [f"{account.lead_provider} has no DfE API token yet."])
    return DfeClient(
        base_url=settings.DFE_API_URL,
        token=decrypt_token(account.token_encrypted),
        timeout=(settings.DFE_CONNECT_TIMEOUT, settings.DFE_READ_TIMEOUT),
        backoff_seconds=settings.DFE_RETRY_BACKOFF_SECONDS,
    )
