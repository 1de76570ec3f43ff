"""DfE's side held by the fake: the applications, declarations and outcomes of each lead provider,
and the hooks tests use to set it up, change it and make the next requests fail."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from ..timestamps import dfe_time
from .terms import _now


class DfeState:
    """DfE's state for some lead providers (one token each); FakeDfe (api.py) serves it."""

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
            return dfe_time(now, microseconds=True)

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
