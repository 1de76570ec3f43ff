"""Reads for staff: where each DfE application stands, in words, in one query per list."""

from __future__ import annotations

from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When
from django.utils.formats import date_format

from accounts.models import User
from applications.models import Application

from .identifiers import PROGRAMME_CODES
from .models import DfeApplication, DfeWrite

S = Application.Status


def with_last_write(queryset: QuerySet[DfeApplication]) -> QuerySet[DfeApplication]:
    """Each row with its latest change for DfE (action, state, DfE's words) and its NPQ's name:
    no query per row."""
    from programmes.models import Programme

    last = DfeWrite.objects.filter(dfe_application=OuterRef("pk")).order_by("-pk")
    code = Case(
        *[
            When(course_identifier=identifier, then=Value(code))
            for identifier, code in PROGRAMME_CODES.items()
        ],
        default=Value(""),
    )
    return queryset.annotate(
        last_write_action=Subquery(last.values("action")[:1]),
        last_write_state=Subquery(last.values("state")[:1]),
        last_write_error=Subquery(last.values("error")[:1]),
        programme_code=code,
        programme_name=Subquery(Programme.objects.filter(code=OuterRef("programme_code")).values("name")[:1]),
    )


def visible_dfe_applications(queryset: QuerySet[DfeApplication], user: User, scoped: QuerySet) -> QuerySet:
    """Those of the user's hubs (``scoped``: through the linked application) and, for a lead
    provider's staff, also those not linked yet."""
    if user.is_superuser:
        return queryset
    return queryset.filter(pk__in=scoped.values("pk")) | queryset.filter(
        application__isnull=True, lead_provider__staff__user=user
    )


def programme_name(dfe_app: DfeApplication) -> str:
    """The NPQ's name (annotated by ``with_last_write``), else DfE's identifier as it came."""
    return getattr(dfe_app, "programme_name", None) or dfe_app.course_identifier


def standing(dfe_app: DfeApplication) -> str:
    """Where the application stands, for hub staff: the portal's form, endorsement, decision, DfE."""
    application = dfe_app.application
    if application is None:
        if dfe_app.status == DfeApplication.Status.REJECTED:
            return "Rejected at DfE"
        if dfe_app.status == DfeApplication.Status.ACCEPTED:
            return "Accepted at DfE, with no application in the portal"
        if dfe_app.invited_at:
            return f"Waiting for the portal's application (invited on {date_format(dfe_app.invited_at, 'j F Y')})"
        return "Waiting for the portal's application"
    status = application.status
    if status == S.DRAFT:
        return "Filling in the portal's application"
    if status in (S.SUBMITTED, S.AWAITING_ENDORSEMENT):
        return "Waiting for endorsement"
    if status == S.ENDORSED:
        return "Waiting for the hub's decision"
    if status in (S.ACCEPTED, S.REJECTED):
        decided = "Accepted" if status == S.ACCEPTED else "Not accepted"
        action = getattr(dfe_app, "last_write_action", None)
        state = getattr(dfe_app, "last_write_state", None)
        if action in (DfeWrite.Action.ACCEPT, DfeWrite.Action.REJECT):
            if state == DfeWrite.State.REFUSED:
                return (
                    f"{decided} here; DfE refused it: {dfe_app.last_write_error} "
                    "The decision is pending at DfE until this is put right."
                )
            if state in DfeWrite.OPEN_STATES:
                return f"{decided} here; being sent to DfE"
        wanted = DfeApplication.Status.ACCEPTED if status == S.ACCEPTED else DfeApplication.Status.REJECTED
        if dfe_app.status == wanted:
            return f"{decided} (DfE has it)"
        return f"{decided} here; not yet at DfE"
    return Application.Status(status).label


def schedule_words(identifier: str) -> str:
    """``npq-leadership-spring`` as "Leadership NPQs starting in spring"."""
    if not identifier:
        return "Not set yet"
    kind, _, season = identifier.removeprefix("npq-").partition("-")
    if kind == "ehco":
        return f"Early headship coaching offer starting in {season.capitalize()}"
    if kind == "aso":
        return f"Additional support offer starting in {season.capitalize()}"
    return f"{kind.capitalize()} NPQs starting in {season}"


TRAINING_STATUSES = {
    "active": "In training",
    "deferred": "Deferred",
    "withdrawn": "Withdrawn",
    "": "Not known yet",
}


def change_words(write: DfeWrite) -> str:
    """What a change sent to DfE says, in words (never the JSON sent)."""
    from programmes.services import DEFERRAL_REASONS, WITHDRAWAL_REASONS

    payload = write.payload or {}
    parts = []
    if "funded_place" in payload:
        parts.append("a funded place" if payload["funded_place"] else "not a funded place")
    if payload.get("schedule_identifier"):
        parts.append(f"schedule: {schedule_words(payload['schedule_identifier']).lower()}")
    reason = payload.get("reason")
    if reason:
        label = WITHDRAWAL_REASONS.get(reason) or DEFERRAL_REASONS.get(reason) or reason
        parts.append(f"reason: {label.lower()}")
    if not parts:
        return (
            "Made from the decision when it is first sent"
            if write.action == DfeWrite.Action.ACCEPT
            else "Nothing more"
        )
    return "; ".join(parts).capitalize()
