"""The fake's participant-declarations and outcomes endpoints."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ..timestamps import parse_sent_time
from .terms import LEADERSHIP, Refusal, _now


class DeclarationsApi:
    """Mixed into FakeDfe (api.py), which holds the state (state.py) and routes to these."""

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
            when = parse_sent_time(str(attributes.get("declaration_date")))
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
