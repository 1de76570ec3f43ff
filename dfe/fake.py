"""A fake of DfE's lead provider API (v3) for tests and the demo: a small WSGI app with DfE's
behaviour for the endpoints the portal uses (statuses, pagination, 422 for a change DfE refuses,
duplicates), served over real HTTP on 127.0.0.1 from a thread (standard library only).

Test hooks: ``fail_next`` makes the next requests answer with an error (before acting), and
``act_then_fail`` makes the next write act and then answer 502, as a gateway that lost DfE's answer."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

WITHDRAWAL_REASONS = (
    "insufficient-capacity-to-undertake-programme",
    "personal-reason-health-or-pregnancy-related",
    "personal-reason-moving-school",
    "personal-reason-other",
    "insufficient-capacity",
    "change-in-developmental-or-personal-priorities",
    "change-in-school-circumstances",
    "change-in-school-leadership",
    "quality-of-programme-structure-not-suitable.",
    "quality-of-programme-content-not-suitable",
    "quality-of-programme-facilitation-not-effective",
    "quality-of-programme-accessibility",
    "quality-of-programme-other",
    "programme-not-appropriate-for-role-and-cpd-needs",
    "started-in-error",
    "expected-commitment-unclear",
    "assessment-requirements-not-met",
    "change-in-career",
    "disengaged-and-unresponsive",
    "non-payment-of-invoice",
    "other",
)
DEFERRAL_REASONS = ("bereavement", "long-term-sickness", "parental-leave", "career-break", "other")
LEADERSHIP = {
    "npq-senior-leadership",
    "npq-headship",
    "npq-executive-leadership",
    "npq-early-years-leadership",
    "npq-senco",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _schedules_for(course: str) -> tuple[str, ...]:
    if course == "npq-early-headship-coaching-offer":
        return tuple(f"npq-ehco-{m}" for m in ("march", "june", "november", "december"))
    kind = "leadership" if course in LEADERSHIP else "specialist"
    return (f"npq-{kind}-autumn", f"npq-{kind}-spring")


class Refusal(Exception):
    def __init__(self, status: int, errors: list[tuple[str, str]]) -> None:
        self.status, self.errors = status, errors


class FakeDfe:
    """DfE's state for some lead providers (one token each) and the WSGI app over it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokens: dict[str, str] = {}  # token -> lead provider name
        self.applications: dict[str, dict] = {}  # id -> {"provider", "attributes"}
        self.declarations: list[dict] = []
        self.outcomes: list[dict] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of each request, for tests
        self._fail: list[int] = []
        self._act_then_fail = 0
        self._stall: threading.Event | None = None
        self._stall_reached: threading.Event | None = None
        # For the demo (`run_fake_dfe --declare-started`): a started declaration is recorded for
        # each application accepted, as if declared outside the portal (the portal adopts it).
        self.declare_started_on_accept = False
        self._clock = 0

    # --- setting up DfE's side --------------------------------------------------------------

    def add_provider(self, name: str, token: str) -> None:
        self.tokens[token] = name

    def _stamp(self) -> str:
        # Strictly increasing times, so that two changes in one second still order.
        with self.lock:
            self._clock += 1
            now = datetime.now(UTC)
            return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}Z"

    def add_application(
        self,
        *,
        provider: str,
        full_name: str,
        email: str,
        trn: str,
        course_identifier: str,
        cohort: str = "2025",
        participant_id: str | None = None,
        eligible_for_funding: bool = True,
        school_urn: str = "",
        **extra: Any,
    ) -> dict:
        now = self._stamp()
        app_id = str(uuid.uuid4())
        attributes = {
            "course_identifier": course_identifier,
            "email": email,
            "email_validated": True,
            "employer_name": None,
            "employment_role": None,
            "full_name": full_name,
            "funding_choice": None if eligible_for_funding else "school",
            "headteacher_status": "no",
            "ineligible_for_funding_reason": None if eligible_for_funding else "establishment-ineligible",
            "participant_id": participant_id or str(uuid.uuid4()),
            "private_childcare_provider_urn": None,
            "teacher_reference_number": trn,
            "teacher_reference_number_validated": True,
            "school_urn": school_urn,
            "school_ukprn": None,
            "status": "pending",
            "reason_for_rejection": None,
            "works_in_school": True,
            "cohort": cohort,
            "cohort_suffix": "a",
            "eligible_for_funding": eligible_for_funding,
            "targeted_delivery_funding_eligibility": False,
            "teacher_catchment": True,
            "teacher_catchment_country": "United Kingdom of Great Britain and Northern Ireland",
            "teacher_catchment_iso_country_code": "GBR",
            "itt_provider": None,
            "lead_mentor": False,
            "funded_place": None,
            "created_at": now,
            "updated_at": now,
            "schedule_identifier": None,
            "works_as_senco": False,
            "senco_start_date": None,
            **extra,
        }
        with self.lock:
            self.applications[app_id] = {
                "id": app_id,
                "provider": provider,
                "attributes": attributes,
                "enrolment": None,
            }
        return {"id": app_id, **attributes}

    def add_declaration(self, *, application_id: str, declaration_type: str = "started") -> dict:
        with self.lock:
            app = self.applications[application_id]["attributes"]
            declaration = {
                "id": str(uuid.uuid4()),
                "provider": self.applications[application_id]["provider"],
                "attributes": {
                    "participant_id": app["participant_id"],
                    "declaration_type": declaration_type,
                    "declaration_date": _now()[:19] + "Z",
                    "course_identifier": app["course_identifier"],
                    "state": "submitted",
                    "has_passed": None,
                    "statement_id": None,
                    "clawback_statement_id": None,
                    "uplift_paid": False,
                    "lead_provider_name": self.applications[application_id]["provider"],
                    "updated_at": _now(),
                    "created_at": _now(),
                    "delivery_partner_id": None,
                    "mentor_id": None,
                    "ineligible_for_funding_reason": None,
                },
            }
            self.declarations.append(declaration)
            return declaration

    def touch(self, application_id: str, **changes: Any) -> None:
        """DfE changed an application (e.g. the teacher corrected their email)."""
        with self.lock:
            attributes = self.applications[application_id]["attributes"]
            attributes.update(changes, updated_at=self._stamp())

    def fail_next(self, *statuses: int) -> None:
        """The next requests answer these statuses (429 or 5xx), in turn, without acting."""
        with self.lock:
            self._fail.extend(statuses)

    def act_then_fail(self, times: int = 1) -> None:
        """The next writes change DfE's state and then answer 502 (the answer is lost)."""
        with self.lock:
            self._act_then_fail += times

    def act_then_stall(self, release: threading.Event, reached: threading.Event | None = None) -> None:
        """The next write changes DfE's state, sets ``reached``, and answers only once
        ``release`` is set (a short read timeout passes first: an uncertain result)."""
        with self.lock:
            self._stall = release
            self._stall_reached = reached

    def state(self) -> dict:
        """What DfE holds, by provider: each application's status, funded place, schedule and
        training, and each declaration with its state."""
        with self.lock:
            return {
                "applications": [
                    {
                        "id": app["id"],
                        "provider": app["provider"],
                        "full_name": app["attributes"]["full_name"],
                        "course_identifier": app["attributes"]["course_identifier"],
                        "status": app["attributes"]["status"],
                        "funded_place": app["attributes"]["funded_place"],
                        "schedule_identifier": app["attributes"]["schedule_identifier"],
                        "training_status": (app["enrolment"] or {}).get("training_status"),
                        "withdrawal": (app["enrolment"] or {}).get("withdrawal"),
                        "deferral": (app["enrolment"] or {}).get("deferral"),
                    }
                    for app in self.applications.values()
                ],
                # The demo's window on declarations too: what DfE was sent and its state.
                "declarations": [
                    {
                        "id": d["id"],
                        "provider": d["provider"],
                        **{
                            key: d["attributes"][key]
                            for key in (
                                "participant_id",
                                "course_identifier",
                                "declaration_type",
                                "declaration_date",
                                "state",
                                "has_passed",
                                "delivery_partner_id",
                            )
                        },
                    }
                    for d in self.declarations
                ],
            }

    def status_of(self, application_id: str) -> dict:
        with self.lock:
            return dict(self.applications[application_id]["attributes"])

    def enrolment_of(self, application_id: str) -> dict | None:
        with self.lock:
            enrolment = self.applications[application_id]["enrolment"]
            return dict(enrolment) if enrolment else None

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

    # declarations (DfE's rules: one billable declaration per participant, course and type; no
    # future date; the delivery partner from the 2024 cohort; retained-2 for leadership only)

    @staticmethod
    def _declaration_json(d: dict) -> dict:
        return {"id": d["id"], "type": "participant-declaration", "attributes": dict(d["attributes"])}

    def _declare(self, body: Any, provider: str) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise Refusal(
                400, [("Bad request", "correct json data structure required. See API docs for reference")]
            )
        attributes = body["data"].get("attributes") or {}
        participant_id = attributes.get("participant_id")
        course = attributes.get("course_identifier")
        kind = attributes.get("declaration_type")
        app = next(
            (
                a
                for a in self.applications.values()
                if a["provider"] == provider
                and a["attributes"]["participant_id"] == participant_id
                and a["attributes"]["course_identifier"] == course
                and a["attributes"]["status"] == "accepted"
            ),
            None,
        )
        if app is None:
            raise Refusal(
                422,
                [
                    (
                        "course_identifier",
                        "The entered '#/course_identifier' is not recognised for the given participant. Check details and try again.",
                    )
                ],
            )
        if kind not in ("started", "retained-1", "retained-2", "completed") or (
            kind == "retained-2" and course not in LEADERSHIP
        ):
            raise Refusal(
                422,
                [("declaration_type", "The property '#/declaration_type' does not exist for this course")],
            )
        try:
            when = datetime.fromisoformat(str(attributes.get("declaration_date")).replace("Z", "+00:00"))
        except ValueError:
            raise Refusal(
                422, [("declaration_date", "Enter a valid RCF3339 '#/declaration_date'.")]
            ) from None
        if when.tzinfo is None:
            raise Refusal(422, [("declaration_date", "Enter a valid RCF3339 '#/declaration_date'.")])
        if when > datetime.now(UTC):
            raise Refusal(
                422,
                [
                    (
                        "declaration_date",
                        "The '#/declaration_date' value cannot be a future date. Check the date and try again.",
                    )
                ],
            )
        if int(app["attributes"]["cohort"][:4]) >= 2024 and not attributes.get("delivery_partner_id"):
            raise Refusal(
                422, [("delivery_partner_id", "The property '#/delivery_partner_id' must be present")]
            )
        if kind == "completed" and not isinstance(attributes.get("has_passed"), bool):
            raise Refusal(422, [("has_passed", "Enter a '#/has_passed' value for this participant.")])
        billable = [
            d
            for d in self.declarations
            if d["attributes"]["participant_id"] == participant_id
            and d["attributes"]["course_identifier"] == course
            and d["attributes"]["declaration_type"] == kind
            and d["attributes"]["state"] not in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
        ]
        if any(d["provider"] == provider for d in billable):
            raise Refusal(
                422,
                [
                    (
                        "base",
                        "A declaration has already been submitted that will be, or has been, paid for this event",
                    )
                ],
            )
        a = app["attributes"]
        funded = bool(a["eligible_for_funding"]) and a.get("funded_place") is not False
        now = _now()
        declaration = {
            "id": str(uuid.uuid4()),
            "provider": provider,
            "attributes": {
                "participant_id": participant_id,
                "declaration_type": kind,
                "declaration_date": attributes["declaration_date"],
                "course_identifier": course,
                # Another provider's billable declaration for the event: DfE keeps this one, ineligible.
                "state": "ineligible" if billable else ("eligible" if funded else "submitted"),
                "has_passed": attributes.get("has_passed") if kind == "completed" else None,
                "statement_id": None,
                "clawback_statement_id": None,
                "uplift_paid": False,
                "lead_provider_name": provider,
                "updated_at": now,
                "created_at": now,
                "delivery_partner_id": attributes.get("delivery_partner_id"),
                "mentor_id": None,
                "ineligible_for_funding_reason": "duplicate_declaration" if billable else None,
            },
        }
        self.declarations.append(declaration)
        return declaration

    def _outcome(self, participant_id: str, provider: str, body: Any) -> dict:
        """An outcome on its own: needs the provider's billable completed declaration."""
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise Refusal(
                400, [("Bad request", "correct json data structure required. See API docs for reference")]
            )
        attributes = body["data"].get("attributes") or {}
        course = attributes.get("course_identifier")
        state = attributes.get("state")
        if state not in ("passed", "failed"):
            raise Refusal(422, [("state", "The property '#/state' must be passed or failed")])
        completed = [
            d
            for d in self.declarations
            if d["provider"] == provider
            and d["attributes"]["participant_id"] == participant_id
            and d["attributes"]["course_identifier"] == course
            and d["attributes"]["declaration_type"] == "completed"
            and d["attributes"]["state"] not in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
        ]
        if not completed:
            raise Refusal(
                422, [("participant_id", "The participant has no completed declaration for this course")]
            )
        for d in completed:
            d["attributes"]["has_passed"] = state == "passed"
            d["attributes"]["updated_at"] = _now()
        now = _now()
        outcome = {
            "id": str(uuid.uuid4()),
            "type": "participant-outcome",
            "attributes": {
                "state": state,
                "completion_date": attributes.get("completion_date"),
                "course_identifier": course,
                "participant_id": participant_id,
                "created_at": now,
                "updated_at": now,
            },
        }
        self.outcomes.append(outcome)
        return outcome

    def _void(self, declaration: dict) -> None:
        a = declaration["attributes"]
        if a["state"] in ("voided", "awaiting_clawback", "clawed_back"):
            raise Refusal(422, [("id", "This declaration has already been voided.")])
        a["state"] = "awaiting_clawback" if a["state"] == "paid" else "voided"
        if a["declaration_type"] == "completed":
            a["has_passed"] = None  # voiding completed clears the outcome
        a["updated_at"] = _now()

    def set_declaration_state(self, declaration_id: str, state: str) -> None:
        """DfE moves a declaration on (eligible -> payable -> paid) as statements are made."""
        with self.lock:
            for d in self.declarations:
                if d["id"] == declaration_id:
                    d["attributes"]["state"] = state
                    d["attributes"]["updated_at"] = _now()

    # applications

    def _own_application(self, app_id: str, provider: str) -> dict:
        app = self.applications.get(app_id)
        if app is None or app["provider"] != provider:
            raise _not_found()
        return app

    @staticmethod
    def _application_json(app: dict) -> dict:
        return {"id": app["id"], "type": "npq_application", "attributes": dict(app["attributes"])}

    def _list_applications(self, provider: str, query: dict) -> list[dict]:
        rows = [
            {"id": app_id, "type": "npq_application", "attributes": dict(app["attributes"])}
            for app_id, app in self.applications.items()
            if app["provider"] == provider
        ]
        since = query.get("filter[updated_since]")
        if since:
            try:
                cutoff = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise Refusal(
                    400,
                    [("filter[updated_since]", "The filter '#/updated_since' must be a valid ISO 8601 date")],
                ) from None
            rows = [
                r
                for r in rows
                if datetime.fromisoformat(r["attributes"]["updated_at"].replace("Z", "+00:00")) >= cutoff
            ]
        cohorts = query.get("filter[cohort]")
        if cohorts:
            rows = [r for r in rows if r["attributes"]["cohort"] in cohorts.split(",")]
        sort = query.get("sort", "created_at")
        key = sort.lstrip("-")
        if key not in ("created_at", "updated_at"):
            raise Refusal(400, [("sort", "Sort by created_at or updated_at")])
        rows.sort(key=lambda r: (r["attributes"][key], r["id"]), reverse=sort.startswith("-"))
        return self._page(rows, query)

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

    def _accept(self, app: dict, body: Any) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise Refusal(
                400, [("Bad request", "correct json data structure required. See API docs for reference")]
            )
        attributes = body["data"].get("attributes") or {}
        a = app["attributes"]
        if a["status"] == "accepted":
            raise Refusal(422, [("npq_application", "This NPQ application has already been accepted")])
        if a["status"] == "rejected":
            raise Refusal(422, [("npq_application", "Once rejected an application cannot change state")])
        for other in self.applications.values():
            o = other["attributes"]
            if (
                other is not app
                and o["participant_id"] == a["participant_id"]
                and o["course_identifier"] == a["course_identifier"]
                and o["status"] == "accepted"
            ):
                raise Refusal(
                    422,
                    [
                        (
                            "npq_application",
                            "The participant has already had an application accepted for this course.",
                        )
                    ],
                )
        funded_place = attributes.get("funded_place")
        if not isinstance(funded_place, bool):
            raise Refusal(422, [("funded_place", "Set '#/funded_place' to true or false.")])
        if funded_place and not a["eligible_for_funding"]:
            raise Refusal(
                422,
                [
                    (
                        "funded_place",
                        "The participant is not eligible for funding, so '#/funded_place' cannot be set to true.",
                    )
                ],
            )
        schedule = attributes.get("schedule_identifier") or _schedules_for(a["course_identifier"])[0]
        if schedule not in _schedules_for(a["course_identifier"]):
            raise Refusal(422, [("schedule_identifier", "Selected schedule is not valid for the course")])
        stamp = self._stamp()
        a.update(status="accepted", funded_place=funded_place, schedule_identifier=schedule, updated_at=stamp)
        app["enrolment"] = {
            "training_status": "active",
            "withdrawal": None,
            "deferral": None,
            "created_at": stamp,
        }
        if self.declare_started_on_accept:
            self.add_declaration(application_id=app["id"], declaration_type="started")
        # DfE closes the participant's other pending applications for the course.
        for other in self.applications.values():
            o = other["attributes"]
            if (
                o["participant_id"] == a["participant_id"]
                and o["course_identifier"] == a["course_identifier"]
                and o["status"] == "pending"
            ):
                o.update(
                    status="rejected",
                    reason_for_rejection="Another application for this course was accepted",
                    updated_at=stamp,
                )
        return self._application_json(app)

    def _reject(self, app: dict) -> dict:
        a = app["attributes"]
        if a["status"] == "accepted":
            raise Refusal(422, [("npq_application", "Once accepted an application cannot change state")])
        if a["status"] == "rejected":
            raise Refusal(422, [("npq_application", "This NPQ application has already been rejected")])
        a.update(
            status="rejected", reason_for_rejection="Rejected by the lead provider", updated_at=self._stamp()
        )
        return self._application_json(app)

    # participants

    def _enrolments(self, participant_id: str, provider: str) -> list[dict]:
        found = [
            app
            for app in self.applications.values()
            if app["provider"] == provider
            and app["attributes"]["participant_id"] == participant_id
            and app["enrolment"] is not None
        ]
        if not found:
            raise _not_found()
        return found

    def _list_participants(self, provider: str, query: dict) -> list[dict]:
        ids = sorted(
            {
                app["attributes"]["participant_id"]
                for app in self.applications.values()
                if app["provider"] == provider and app["enrolment"] is not None
            }
        )
        rows = [self._participant_json(pid, self._enrolments(pid, provider)) for pid in ids]
        since = query.get("filter[updated_since]")
        if since:
            cutoff = datetime.fromisoformat(since.replace("Z", "+00:00"))
            rows = [
                r
                for r in rows
                if datetime.fromisoformat(r["attributes"]["updated_at"].replace("Z", "+00:00")) >= cutoff
            ]
        rows.sort(
            key=lambda r: (r["attributes"]["updated_at"], r["id"]),
            reverse=query.get("sort", "") == "-updated_at",
        )
        return self._page(rows, query)

    def _participant_json(self, participant_id: str, apps: list[dict]) -> dict:
        first = apps[0]["attributes"]
        enrolments = []
        for app in apps:
            a, e = app["attributes"], app["enrolment"]
            enrolments.append(
                {
                    "course_identifier": a["course_identifier"],
                    "schedule_identifier": a["schedule_identifier"],
                    "cohort": a["cohort"],
                    "cohort_suffix": a["cohort_suffix"],
                    "npq_application_id": app["id"],
                    "eligible_for_funding": a["eligible_for_funding"],
                    "training_status": e["training_status"],
                    "school_urn": a["school_urn"],
                    "targeted_delivery_funding_eligibility": a["targeted_delivery_funding_eligibility"],
                    "funded_place": a["funded_place"],
                    "email": a["email"],
                    "withdrawal": e["withdrawal"],
                    "deferral": e["deferral"],
                    "created_at": e["created_at"],
                }
            )
        return {
            "id": participant_id,
            "type": "npq-participant",
            "attributes": {
                "full_name": first["full_name"],
                "previous_names": [],
                "teacher_reference_number": first["teacher_reference_number"],
                "updated_at": max(a["attributes"]["updated_at"] for a in apps),
                "npq_enrolments": enrolments,
                "participant_id_changes": [],
            },
        }

    def _participant_change(self, action: str, apps: list[dict], body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise Refusal(
                400, [("Bad request", "correct json data structure required. See API docs for reference")]
            )
        attributes = body["data"].get("attributes") or {}
        course = attributes.get("course_identifier")
        app = next((a for a in apps if a["attributes"]["course_identifier"] == course), None)
        if app is None:
            raise Refusal(
                422,
                [
                    (
                        "course_identifier",
                        "The entered '#/course_identifier' is not recognised for the given participant. Check details and try again.",
                    )
                ],
            )
        enrolment, a = app["enrolment"], app["attributes"]
        declarations = [
            d
            for d in self.declarations
            if d["attributes"]["participant_id"] == a["participant_id"]
            and d["attributes"]["course_identifier"] == course
            and d["attributes"]["state"] not in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
        ]
        status = enrolment["training_status"]
        if action == "withdraw":
            reason = attributes.get("reason")
            if reason not in WITHDRAWAL_REASONS:
                raise Refusal(422, [("reason", "The property '#/reason' must be a valid reason")])
            if status == "withdrawn":
                raise Refusal(422, [("participant_id", "The participant is already withdrawn")])
            if not any(d["attributes"]["declaration_type"] == "started" for d in declarations):
                raise Refusal(
                    422,
                    [
                        (
                            "participant_id",
                            "An NPQ participant who has not got a started declaration cannot be withdrawn. Please contact support for assistance",
                        )
                    ],
                )
            enrolment.update(training_status="withdrawn", withdrawal={"reason": reason, "date": _now()})
        elif action == "defer":
            reason = attributes.get("reason")
            if reason not in DEFERRAL_REASONS:
                raise Refusal(422, [("reason", "The property '#/reason' must be a valid reason")])
            if status == "withdrawn":
                raise Refusal(422, [("participant_id", "The participant is already withdrawn")])
            if status == "deferred":
                raise Refusal(422, [("participant_id", "The participant is already deferred")])
            if not declarations:
                raise Refusal(
                    422, [("participant_id", "You cannot defer an NPQ participant that has no declarations")]
                )
            enrolment.update(training_status="deferred", deferral={"reason": reason, "date": _now()})
        elif action == "resume":
            if status == "active":
                raise Refusal(422, [("participant_id", "The participant is already active")])
            enrolment.update(training_status="active", deferral=None, withdrawal=None)
        elif action == "change-schedule":
            schedule = attributes.get("schedule_identifier")
            if schedule not in _schedules_for(course):
                raise Refusal(422, [("schedule_identifier", "Selected schedule is not valid for the course")])
            if status == "withdrawn":
                raise Refusal(
                    422, [("participant_id", "The participant is withdrawn: the schedule cannot change")]
                )
            a["schedule_identifier"] = schedule
        else:
            raise _not_found()
        a["updated_at"] = self._stamp()


def _not_found() -> Refusal:
    return Refusal(404, [("Not found", "Resource not found")])


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # tests and the demo stay quiet
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class FakeDfeServer:
    """The fake served on 127.0.0.1 from a thread: ``with FakeDfeServer() as server: server.url``."""

    def __init__(self, fake: FakeDfe | None = None, port: int = 0) -> None:
        self.fake = fake or FakeDfe()
        self.httpd = make_server(
            "127.0.0.1", port, self.fake, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def start(self) -> FakeDfeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeDfeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
