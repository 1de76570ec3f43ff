"""Sending a recorded declaration to DfE once: sent with the row locked, read back from DfE after
an uncertain result, never sent twice blindly; the sweep of those still waiting; and a completed
declaration's outcome sent on its own."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from ..client import DfeClient, DfeRefused, DfeUnavailable, DfeUncertain, LinkOff, client_for, link_on
from ..crypto import TokenKeyMissing
from ..models import Declaration, LeadProviderAccount
from ..timestamps import dfe_time

S = Declaration.State
DUPLICATE = "already been submitted"  # DfE's words for a second billable declaration


# --- sending ------------------------------------------------------------------------------------


def _attributes(declaration: Declaration) -> dict:
    dfe_app = declaration.dfe_application
    attributes = {
        "participant_id": str(dfe_app.participant_id),
        "declaration_type": declaration.declaration_type,
        "declaration_date": dfe_time(declaration.declaration_date),
        "course_identifier": dfe_app.course_identifier,
        "delivery_partner_id": str(declaration.delivery_partner_id),
    }
    if declaration.declaration_type == "completed":
        attributes["has_passed"] = bool(declaration.has_passed)
    return attributes


def _matching_at_dfe(client: DfeClient, declaration: Declaration) -> dict | None:
    """DfE's billable declaration of this type for the participant's course, if it has one."""
    dfe_app = declaration.dfe_application
    for found in client.declarations(participant_id=str(dfe_app.participant_id)):
        a = found["attributes"]
        if (
            a.get("course_identifier") == dfe_app.course_identifier
            and a.get("declaration_type") == declaration.declaration_type
            and a.get("state") not in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
        ):
            return found
    return None


def _keep_answer(declaration: Declaration, answer: dict) -> None:
    a = answer.get("attributes") or {}
    declaration.dfe_id = answer["id"]
    # DfE writes some states with a hyphen (awaiting-clawback) and its description with an underscore.
    declaration.state = (a.get("state") or S.SUBMITTED).replace("-", "_")
    declaration.ineligible_reason = a.get("ineligible_for_funding_reason") or ""
    declaration.error = ""
    declaration.sent_at = timezone.now()


def send_declaration(declaration_id: int, *, client: DfeClient | None = None) -> Declaration | None:
    """Send one recorded declaration, once: the row is locked for the call (another sender skips
    it), a settled one is never sent again, and an uncertain one is looked for at DfE first."""
    failure: Exception | None = None
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dfe_application__lead_provider")
            .filter(pk=declaration_id, state__in=Declaration.OPEN_STATES)
            .first()
        )
        if declaration is None:
            return None
        dfe_app = declaration.dfe_application
        try:
            client = client or client_for(
                LeadProviderAccount.objects.get(lead_provider=dfe_app.lead_provider)
            )
        except (LinkOff, LeadProviderAccount.DoesNotExist, DfeRefused, TokenKeyMissing) as exc:
            declaration.error = (
                f"{dfe_app.lead_provider} has no DfE API account."
                if isinstance(exc, LeadProviderAccount.DoesNotExist)
                else str(exc)
            )
            declaration.save(update_fields=["error"])
            return declaration
        declaration.attempts += 1
        declaration.last_attempt_at = timezone.now()
        fields = ["state", "dfe_id", "ineligible_reason", "error", "sent_at", "attempts", "last_attempt_at"]
        try:
            found = _matching_at_dfe(client, declaration) if declaration.state == S.UNCERTAIN else None
            if found is not None:
                _keep_answer(declaration, found)
            else:
                _keep_answer(declaration, client.declare(_attributes(declaration)))
        except DfeRefused as exc:
            found = None
            if DUPLICATE in str(exc):
                try:
                    found = _matching_at_dfe(client, declaration)
                except (DfeRefused, DfeUnavailable):
                    found = None
            if found is not None and not Declaration.objects.filter(dfe_id=found["id"]).exists():
                _keep_answer(declaration, found)  # DfE has it already (sent before its answer was lost)
            else:
                declaration.state, declaration.error = S.REFUSED, str(exc)
        except DfeUncertain as exc:
            declaration.state = S.UNCERTAIN
            declaration.error = f"{exc} The portal checks with DfE before trying again."
            failure = exc
        except DfeUnavailable as exc:
            declaration.error = str(exc)
            failure = exc
        declaration.save(update_fields=fields)
    if failure is not None:
        raise failure
    return declaration


def send_open_declarations(today: date | None = None) -> int:
    """The sweep: every declaration still waiting (never sent, uncertain, DfE away). How many settled."""
    if not link_on():
        return 0
    settled = 0
    for pk in (
        Declaration.objects.filter(state__in=Declaration.OPEN_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        try:
            declaration = send_declaration(pk)
        except (DfeUncertain, DfeUnavailable):
            continue
        if declaration is not None and declaration.state not in Declaration.OPEN_STATES:
            settled += 1
    for pk in Declaration.objects.filter(outcome_pending=True).order_by("pk").values_list("pk", flat=True):
        declaration = send_outcome(pk)
        if declaration is not None and not declaration.outcome_pending:
            settled += 1
    return settled


def send_outcome(declaration_id: int, *, client: DfeClient | None = None) -> Declaration | None:
    """Send a completed declaration's outcome on its own (the row locked; an outcome sent twice
    is harmless at DfE: the latest stands)."""
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dfe_application__lead_provider")
            .filter(pk=declaration_id, outcome_pending=True)
            .first()
        )
        if declaration is None:
            return None
        dfe_app = declaration.dfe_application
        try:
            client = client or client_for(
                LeadProviderAccount.objects.get(lead_provider=dfe_app.lead_provider)
            )
            client.outcome(
                str(dfe_app.participant_id),
                course_identifier=dfe_app.course_identifier,
                passed=bool(declaration.has_passed),
                completion_date=dfe_time(timezone.now()),
            )
        except DfeRefused as exc:
            declaration.error = f"DfE refused the outcome: {exc}"
            declaration.outcome_pending = False
        except (
            DfeUnavailable,
            DfeUncertain,
            LinkOff,
            TokenKeyMissing,
            LeadProviderAccount.DoesNotExist,
        ) as exc:
            declaration.error = f"The outcome is not sent yet: {exc}"
        else:
            declaration.error = ""
            declaration.outcome_pending = False
        declaration.save(update_fields=["error", "outcome_pending"])
    return declaration
