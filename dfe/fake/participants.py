"""The fake's participants endpoints: list (changed since, sorted, paged), read, and the changes
(withdraw, defer, resume, change schedule) with DfE's refusals."""

from __future__ import annotations

from typing import Any

from ..timestamps import parse_sent_time
from .terms import DEFERRAL_REASONS, WITHDRAWAL_REASONS, Refusal, _not_found, _now, _schedules_for


class ParticipantsApi:
    """Mixed into FakeDfe (api.py), which holds the state (state.py) and routes to these."""

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
            cutoff = parse_sent_time(since)
            rows = [r for r in rows if parse_sent_time(r["attributes"]["updated_at"]) >= cutoff]
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
