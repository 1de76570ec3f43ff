"""Records who viewed or exported a participant's personal data in admin and on marking pages.

One place, outside the views it watches: a page named in WATCHED (by its URL name) that answers
200 to a GET is recorded with whose data it showed; any CSV an admin page answers with is recorded
as an export of that many rows. Subject access downloads are recorded by their own view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .models import AccessLogEntry

logger = logging.getLogger(__name__)


def _participant(object_id: str):
    from programmes.models import Participant

    row = Participant.objects.filter(pk=object_id).values_list("user_id", "course__cohort__hub_id").first()
    return row


def _application(object_id: str):
    from applications.models import Application

    return Application.objects.filter(pk=object_id).values_list("user_id", "cohort__hub_id").first()


def _entry(object_id: str):
    from assessment.models import Entry

    return (
        Entry.objects.filter(pk=object_id)
        .values_list("participant__user_id", "participant__course__cohort__hub_id")
        .first()
    )


def _assignment(object_id: str):
    from assessment.models import MarkingAssignment

    return (
        MarkingAssignment.objects.filter(pk=object_id)
        .values_list("entry__participant__user_id", "entry__participant__course__cohort__hub_id")
        .first()
    )


def _funding_decision(object_id: str):
    from funding.models import FundingDecision

    return (
        FundingDecision.objects.filter(pk=object_id).values_list("user_id", "course__cohort__hub_id").first()
    )


def _funding_review(object_id: str):
    from funding.models import FundingReview

    return (
        FundingReview.objects.filter(pk=object_id)
        .values_list("decision__user_id", "decision__course__cohort__hub_id")
        .first()
    )


def _dfe_application(object_id: str):
    """Its person and hub through the portal's application; one not linked yet is its lead
    provider's staff's (no hub, no account)."""
    from dfe.models import DfeApplication

    return (
        DfeApplication.objects.filter(pk=object_id)
        .values_list("application__user_id", "application__cohort__hub_id")
        .first()
    )


def _window(object_id: str):
    from assessment.models import AssessmentWindow

    hub = (
        AssessmentWindow.objects.filter(pk=object_id).values_list("course__cohort__hub_id", flat=True).first()
    )
    return None if hub is None else (None, hub)


# URL name -> (what, the URL argument naming the row, how to find whose data and which hub).
WATCHED: dict[str, tuple[str, str, Callable[[str], tuple[int | None, int] | None]]] = {
    "admin:programmes_participant_change": ("Participant page", "object_id", _participant),
    "admin:applications_application_change": ("Application page", "object_id", _application),
    "admin:assessment_entry_change": ("Assessment entry page", "object_id", _entry),
    "admin:funding_fundingdecision_change": ("Funding decision page", "object_id", _funding_decision),
    "admin:funding_fundingreview_change": ("Funding review page", "object_id", _funding_review),
    "admin:dfe_dfeapplication_change": ("DfE application page", "object_id", _dfe_application),
    # Every entry of a course, with access, response, marking and result: many people at once.
    "admin:assessment_window_manage": ("Assessment entries and scripts of a course", "pk", _window),
    "marking_script": ("Assessment script", "assignment_id", _assignment),
    "marking_response_file": ("Assessment script file", "assignment_id", _assignment),
}


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        try:
            self._record(request, response)
        except Exception:  # the page itself must never fail for its log line
            logger.exception("Could not record an access to personal data")
        return response

    def _record(self, request: HttpRequest, response: HttpResponse) -> None:
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if match is None or user is None or not user.is_authenticated or response.status_code != 200:
            return
        from .services import access_record

        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/csv") and request.path.startswith("/admin/"):
            rows = max(len(request.POST.getlist("_selected_action")), 0) if request.method == "POST" else 0
            access_record(
                by=user,
                action=AccessLogEntry.Action.EXPORTED,
                what=f"CSV export: {self._title(request, match)}",
                hub_id=self._single_hub(user),
                rows=rows or 1,
            )
            return
        watched = WATCHED.get(match.view_name)
        if watched is None or request.method != "GET":
            return
        what, argument, find = watched
        object_id = str(match.kwargs.get(argument, ""))
        found = find(object_id) if object_id.isascii() and object_id.isdigit() else None
        if found is None:
            return
        person_id, hub_id = found
        from accounts.models import User

        access_record(
            by=user,
            action=AccessLogEntry.Action.VIEWED,
            what=f"{what} #{object_id}",
            person=User(pk=person_id) if person_id else None,
            hub_id=hub_id,
        )

    @staticmethod
    def _title(request: HttpRequest, match) -> str:
        from django.apps import apps

        name = match.view_name.split(":")[-1].removesuffix("_changelist")
        app_label, _, model_name = name.partition("_")
        try:
            return str(apps.get_model(app_label, model_name)._meta.verbose_name_plural)
        except (LookupError, ValueError):
            return request.path

    @staticmethod
    def _single_hub(user) -> int | None:
        """The exporter's hub, when they administer exactly one (its administrators see it)."""
        from .services import administered_hub_ids

        hubs = administered_hub_ids(user)
        return next(iter(hubs)) if len(hubs) == 1 else None
