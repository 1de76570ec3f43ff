"""The fake as a WSGI app: the test hooks' failures first, the lead provider's token, the body
read, then each request routed to the endpoint's handler (applications, participants,
declarations) and answered as DfE answers (JSON, its statuses and error shapes)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from .applications import ApplicationsApi
from .declarations import DeclarationsApi
from .participants import ParticipantsApi
from .state import DfeState
from .terms import Refusal, _not_found


class FakeDfe(ApplicationsApi, ParticipantsApi, DeclarationsApi, DfeState):
    """DfE's state for some lead providers (one token each) and the WSGI app over it."""

    # --- the API ----------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        if path == "/_fake/state" and method == "GET":  # the demo's window on DfE's side
            return self._respond(start_response, 200, self.state())
        with self.lock:
            self.requests.append((method, path))
            failure = self._fail.pop(0) if self._fail else None
        if failure is not None:
            return self._respond(
                start_response, failure, {"errors": [{"title": "error", "detail": "Try again"}]}
            )
        auth = environ.get("HTTP_AUTHORIZATION", "")
        provider = (
            self.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        )
        if provider is None:
            return self._respond(start_response, 401, {"error": "HTTP Token: Access denied"})
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        body = None
        if method in ("POST", "PUT"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._bad_request(start_response)
        parts = path.removeprefix("/api/v3/").strip("/").split("/")
        try:
            with self.lock:
                status, payload = self._route(method, parts, query, body, provider)
                lost = method in ("POST", "PUT") and status == 200 and self._act_then_fail > 0
                if lost:
                    self._act_then_fail -= 1
                stall = self._stall if method in ("POST", "PUT") and status == 200 else None
                reached = self._stall_reached if stall is not None else None
                if stall is not None:
                    self._stall = self._stall_reached = None
        except Refusal as refusal:
            errors = [{"title": title, "detail": detail} for title, detail in refusal.errors]
            return self._respond(start_response, refusal.status, {"errors": errors})
        if lost:
            return self._respond(start_response, 502, {"error": "Bad gateway"})
        if stall is not None:
            if reached is not None:
                reached.set()
            stall.wait(timeout=10)
        return self._respond(start_response, status, payload)

    def _bad_request(self, start_response):
        errors = [
            {
                "title": "Bad request",
                "detail": "correct json data structure required. See API docs for reference",
            }
        ]
        return self._respond(start_response, 400, {"errors": errors})

    @staticmethod
    def _respond(start_response, status: int, payload: Any) -> list[bytes]:
        reasons = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            422: "Unprocessable Entity",
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        data = json.dumps(payload).encode()
        start_response(
            f"{status} {reasons.get(status, 'Error')}",
            [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))],
        )
        return [data]

    def _route(self, method: str, parts: list[str], query: dict, body: Any, provider: str) -> tuple[int, Any]:
        if parts[0] == "npq-applications":
            if method == "GET" and len(parts) == 1:
                return 200, {"data": self._list_applications(provider, query)}
            app = self._own_application(parts[1] if len(parts) > 1 else "", provider)
            if method == "GET" and len(parts) == 2:
                return 200, {"data": self._application_json(app)}
            if method == "POST" and len(parts) == 3 and parts[2] == "accept":
                return 200, {"data": self._accept(app, body)}
            if method == "POST" and len(parts) == 3 and parts[2] == "reject":
                return 200, {"data": self._reject(app)}
        if parts == ["participants", "npq"] and method == "GET":
            return 200, {"data": self._list_participants(provider, query)}
        if parts[:2] == ["participants", "npq"] and len(parts) >= 3:
            enrolments = self._enrolments(parts[2], provider)
            if method == "GET" and len(parts) == 3:
                return 200, {"data": self._participant_json(parts[2], enrolments)}
            if method == "POST" and parts[3:] == ["outcomes"]:
                return 200, {"data": self._outcome(parts[2], provider, body)}
            if method == "PUT" and len(parts) == 4:
                self._participant_change(parts[3], enrolments, body)
                return 200, {"data": self._participant_json(parts[2], self._enrolments(parts[2], provider))}
        if parts == ["participant-declarations"] and method == "POST":
            return 200, {"data": self._declaration_json(self._declare(body, provider))}
        if parts[:1] == ["participant-declarations"] and len(parts) >= 2:
            declaration = next(
                (d for d in self.declarations if d["id"] == parts[1] and d["provider"] == provider), None
            )
            if declaration is None:
                raise _not_found()
            if method == "GET" and len(parts) == 2:
                return 200, {"data": self._declaration_json(declaration)}
            if method == "PUT" and parts[2:] == ["void"]:
                self._void(declaration)
                return 200, {"data": self._declaration_json(declaration)}
        if parts == ["participant-declarations"] and method == "GET":
            wanted = query.get("filter[participant_id]")
            found = [
                {"id": d["id"], "type": "participant-declaration", "attributes": d["attributes"]}
                for d in self.declarations
                if d["provider"] == provider and (not wanted or d["attributes"]["participant_id"] == wanted)
            ]
            return 200, {"data": self._page(found, query)}
        raise _not_found()

    @staticmethod
    def _page(rows: list, query: dict) -> list:
        try:
            page = max(int(query.get("page[page]", 1)), 1)
            per_page = min(max(int(query.get("page[per_page]", 100)), 1), 3000)
        except ValueError:
            raise Refusal(
                400, [("page", "The '#/page[page]' and '#/page[per_page]' must be integers")]
            ) from None
        return rows[(page - 1) * per_page : page * per_page]
