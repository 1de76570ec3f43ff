"""The fake's npq-applications endpoints: list (changed since, by cohort, sorted, paged), read,
accept (DfE's refusals, closing the participant's other pending applications) and reject."""

from __future__ import annotations

from typing import Any

from ..timestamps import parse_sent_time
from .terms import Refusal, _not_found, _schedules_for


class ApplicationsApi:
    """Mixed into FakeDfe (api.py), which holds the state (state.py) and routes to these."""

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
                cutoff = parse_sent_time(since)
            except ValueError:
                raise Refusal(
                    400,
                    [("filter[updated_since]", "The filter '#/updated_since' must be a valid ISO 8601 date")],
                ) from None
            rows = [r for r in rows if parse_sent_time(r["attributes"]["updated_at"]) >= cutoff]
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
