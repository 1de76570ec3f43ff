"""Making a declaration (recorded with its frozen evidence, sent after commit), voiding one with
a reason, and declaring completed (or its outcome) once a window's results are released."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from programmes.models import Participant

from ..client import DfeClient, DfeRefused, DfeUnavailable, DfeUncertain, LinkOff, client_for, link_on
from ..crypto import TokenKeyMissing
from ..models import Declaration, DeliveryPartner, DfeApplication, LeadProviderAccount
from .evidence import _released_outcome, freeze_evidence, schedule_of
from .sending import send_declaration, send_outcome

logger = logging.getLogger(__name__)

S = Declaration.State


class DeclarationError(Exception):
    """A declaration the portal will not make; ``str()`` is for staff."""


# --- making a declaration -----------------------------------------------------------------------


def declare(
    participant: Participant,
    declaration_type: str,
    *,
    by: User | None,
    declaration_date: datetime | None = None,
    override_reason: str = "",
    has_passed: bool | None = None,
) -> Declaration:
    """Record a declaration with its frozen evidence (sent after commit). Refused, in words, when
    it is already declared, not in the schedule, dated in the future or before the schedule
    starts, the hub has no delivery partner id, or the evidence does not meet the rule and no
    override reason is given."""
    now = timezone.now()
    when = declaration_date or now
    override_reason = override_reason.strip()
    with transaction.atomic():
        dfe_app = (
            DfeApplication.objects.select_for_update()
            .filter(application__participant=participant)
            .select_related("lead_provider")
            .first()
        )
        if dfe_app is None or dfe_app.status != DfeApplication.Status.ACCEPTED:
            raise DeclarationError("This participant's application is not accepted at DfE yet.")
        if (
            dfe_app.declarations.filter(declaration_type=declaration_type)
            .exclude(state__in=Declaration.SPENT_STATES)
            .exists()
        ):
            raise DeclarationError("This declaration has already been made for this participant.")
        schedule = schedule_of(dfe_app)
        if schedule is None:
            raise DeclarationError(
                f"No schedule {dfe_app.schedule_identifier or '(none)'} is set up for DfE cohort {dfe_app.cohort}."
            )
        if declaration_type not in {m.declaration_type for m in schedule.milestones.all()}:
            raise DeclarationError(
                f"The schedule {schedule.identifier} has no {declaration_type} declaration."
            )
        if when > now:
            raise DeclarationError("The declaration date cannot be in the future.")
        if when.date() < schedule.starts_on:
            raise DeclarationError(
                f"The declaration date cannot be before the schedule starts ({schedule.starts_on:%-d %B %Y})."
            )
        partner = DeliveryPartner.objects.filter(
            hub_id=participant.course.cohort.hub_id, dfe_cohort=dfe_app.cohort
        ).first()
        if partner is None:
            raise DeclarationError(
                f"The hub has no DfE delivery partner id for DfE cohort {dfe_app.cohort}. Add it first."
            )
        if declaration_type == "completed":
            outcome = _released_outcome(participant)
            if has_passed is None and outcome is not None:
                has_passed = outcome.result == "passed"
            if has_passed is None:
                raise DeclarationError(
                    "A completed declaration needs the assessment outcome (passed or failed)."
                )
        else:
            has_passed = None
        evidence = freeze_evidence(
            participant, declaration_type, lead_provider_id=dfe_app.lead_provider_id, by=by
        )
        if not evidence.met and not override_reason:
            raise DeclarationError(
                "The evidence does not meet the rule for this declaration. "
                "Give a reason to declare it anyway (it is recorded with your name)."
            )
        if override_reason and not evidence.met:
            logger.warning(
                "Declaration %s for participant %s made without evidence by %s: %s",
                declaration_type,
                participant.pk,
                by,
                override_reason,
            )
        try:
            with transaction.atomic():
                declaration = Declaration.objects.create(
                    dfe_application=dfe_app,
                    declaration_type=declaration_type,
                    declaration_date=when,
                    has_passed=has_passed,
                    delivery_partner_id=partner.delivery_partner_id,
                    evidence=evidence,
                    override_reason=override_reason if not evidence.met else "",
                    created_at=now,
                    created_by=by if by is not None and by.pk else None,
                )
        except IntegrityError:
            raise DeclarationError("This declaration has already been made for this participant.") from None
        if link_on():
            transaction.on_commit(partial(_queue, declaration.pk))
    return declaration


def _queue(declaration_id: int) -> None:
    try:
        send_declaration(declaration_id)
    except Exception as exc:  # after commit: the decision stands; the sweep sends it
        logger.warning("Declaration %s not settled now (%s); the sweep will send it", declaration_id, exc)


def void(
    declaration: Declaration, *, reason: str, by: User | None, client: DfeClient | None = None
) -> Declaration:
    """Void a declaration with a reason: one never sent is simply voided; one DfE holds is voided
    at DfE (a paid one becomes awaiting clawback). Refused, in words, when DfE refuses."""
    reason = reason.strip()
    if not reason:
        raise DeclarationError("Give the reason for voiding the declaration.")
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update()
            .select_related("dfe_application__lead_provider")
            .get(pk=declaration.pk)
        )
        if declaration.state in (S.VOIDED, S.AWAITING_CLAWBACK, S.CLAWED_BACK, S.REFUSED):
            raise DeclarationError("This declaration is already voided or was refused.")
        declaration.void_reason = reason
        declaration.void_requested_at = timezone.now()
        # DfE clears a voided completed declaration's outcome: one not sent yet never goes.
        declaration.outcome_pending = False
        if declaration.dfe_id is None and declaration.state == S.QUEUED:
            declaration.state = S.VOIDED
        else:
            if declaration.dfe_id is None:
                raise DeclarationError("DfE has not answered for this declaration yet; void it once it has.")
            try:
                client = client or client_for(
                    LeadProviderAccount.objects.get(lead_provider=declaration.dfe_application.lead_provider)
                )
                answer = client.void(str(declaration.dfe_id))
            except (DfeRefused, DfeUnavailable, DfeUncertain, LinkOff, TokenKeyMissing) as exc:
                raise DeclarationError(f"DfE did not void it: {exc}") from exc
            declaration.state = ((answer.get("attributes") or {}).get("state") or S.VOIDED).replace("-", "_")
        declaration.save(update_fields=["state", "void_reason", "void_requested_at", "outcome_pending"])
    logger.info("Declaration %s voided by %s: %s", declaration.pk, by, reason)
    return declaration


def declare_outcomes(*, window, by: User | None) -> int:
    """After a window's results are released: a completed declaration (with has_passed) for each
    participant whose schedule allows it and who has none yet, or the outcome on its own when
    completed was declared already. How many were made or queued."""
    from assessment.models import Outcome

    made = 0
    for outcome in Outcome.objects.filter(entry__window=window).select_related(
        "entry__participant__course__cohort"
    ):
        participant = outcome.entry.participant
        passed = outcome.result == "passed"
        with transaction.atomic():
            completed = (
                Declaration.objects.select_for_update()
                .filter(dfe_application__application__participant=participant, declaration_type="completed")
                .exclude(state__in=Declaration.SPENT_STATES)
                .first()
            )
            if completed is not None:
                if completed.has_passed != passed:
                    completed.has_passed = passed
                    # Not sent yet: it goes with the declaration; sent: the outcome goes on its own.
                    completed.outcome_pending = completed.state not in Declaration.OPEN_STATES
                    completed.save(update_fields=["has_passed", "outcome_pending"])
                    if completed.outcome_pending and link_on():
                        transaction.on_commit(partial(_queue_outcome, completed.pk))
                    made += 1
                continue
        try:
            declare(participant, "completed", by=by, has_passed=passed)
        except DeclarationError as exc:
            logger.info("No completed declaration for participant %s: %s", participant.pk, exc)
            continue
        made += 1
    return made


def _queue_outcome(declaration_id: int) -> None:
    try:
        send_outcome(declaration_id)
    except Exception as exc:  # after commit: the sweep sends it
        logger.warning(
            "Outcome of declaration %s not sent now (%s); the sweep will send it", declaration_id, exc
        )
