"""Changes sent to DfE: recorded first, sent by a retried task, reconciled after an uncertain
result by reading DfE back, never by sending again blindly (decisions.md, 38)."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .client import (
    DfeClient,
    DfeRefused,
    DfeUnavailable,
    DfeUncertain,
    LinkOff,
    client_for,
    link_on,
)
from .crypto import TokenKeyMissing
from .identifiers import schedule_identifier
from .models import DfeApplication, DfeWrite, LeadProviderAccount

logger = logging.getLogger(__name__)

A = DfeWrite.Action
PARTICIPANT_ACTIONS = {
    A.WITHDRAW: "withdraw",
    A.DEFER: "defer",
    A.RESUME: "resume",
    A.CHANGE_SCHEDULE: "change-schedule",
}
# What DfE's training status is once each participant change has happened.
TRAINING_STATUS_AFTER = {A.WITHDRAW: "withdrawn", A.DEFER: "deferred", A.RESUME: "active"}


def record_write(
    *, dfe_application: DfeApplication, action: str, payload: dict | None = None, by: User | None = None
) -> DfeWrite:
    """Record the intent in the caller's transaction; it is sent after commit (and by the sweep
    if that never happens). ``payload`` None: built from the portal's state just before sending."""
    write = DfeWrite.objects.create(
        dfe_application=dfe_application,
        action=action,
        payload=payload if payload is not None else {},
        created_at=timezone.now(),
        created_by=by if by is not None and by.pk else None,
    )
    if link_on():
        transaction.on_commit(partial(_queue, write.pk))
    return write


def _queue(write_id: int) -> None:
    from django.conf import settings

    from .tasks import send_change

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker (`make run`): one try now, without Celery's retries holding up the page;
        # the sweep (or `dfe_sync`) sends whatever is still open.
        try:
            send_write(write_id)
        except Exception as exc:  # after commit: the decision stands; the sweep sends it
            logger.warning("DfE change %s not settled now (%s); the sweep will send it", write_id, exc)
        return
    try:
        send_change.delay(write_id)
    except Exception as exc:  # the broker is away: the sweep sends it
        logger.warning("Could not queue DfE change %s (%s); the sweep will send it", write_id, exc)


def _accept_payload(dfe_app: DfeApplication) -> dict:
    application = dfe_app.application
    payload: dict = {}
    if application is not None and application.funded_place is not None:
        payload["funded_place"] = application.funded_place
    if application is not None and application.course_id:
        payload["schedule_identifier"] = schedule_identifier(application.course.programme, application.cohort)
    return payload


def send_write(write_id: int, *, client: DfeClient | None = None) -> DfeWrite | None:
    """Send one recorded change, once. Safe to call twice or at once: the row is locked for the
    call (another sender skips it), a settled change is never sent again, and an uncertain one is
    checked against DfE first. Changes to one application go in the order they were decided."""
    failure: Exception | None = None
    with transaction.atomic():
        write = (
            DfeWrite.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "dfe_application__lead_provider", "dfe_application__application__course__programme"
            )
            .filter(pk=write_id, state__in=DfeWrite.OPEN_STATES)
            .first()
        )
        if write is None:
            return None
        earlier = DfeWrite.objects.filter(
            dfe_application_id=write.dfe_application_id, state__in=DfeWrite.OPEN_STATES, pk__lt=write.pk
        ).exists()
        if earlier:
            return write  # sent after the one decided before it (by its task or the sweep)
        dfe_app = write.dfe_application
        try:
            client = client or client_for(
                LeadProviderAccount.objects.get(lead_provider=dfe_app.lead_provider)
            )
        except (LinkOff, LeadProviderAccount.DoesNotExist, DfeRefused, TokenKeyMissing) as exc:
            write.error = (
                str(exc)
                if not isinstance(exc, LeadProviderAccount.DoesNotExist)
                else (f"{dfe_app.lead_provider} has no DfE API account.")
            )
            write.save(update_fields=["error"])
            return write
        if write.action == A.ACCEPT and not write.payload:
            write.payload = _accept_payload(dfe_app)  # frozen before the first call
        write.attempts += 1
        write.last_attempt_at = timezone.now()
        try:
            if write.state == DfeWrite.State.UNCERTAIN and _already_done(client, write):
                _settle(write, DfeWrite.State.DONE)
                return write
            precondition = _precondition(client, write)
            if precondition:
                write.error = precondition
                _settle(write, DfeWrite.State.REFUSED)
                return write
            result = _send(client, write)
        except DfeRefused as exc:
            if _refused_but_done(client, write):  # e.g. DfE closed it already: the same outcome
                write.error = ""
                _settle(write, DfeWrite.State.DONE)
                return write
            write.error = str(exc)
            _settle(write, DfeWrite.State.REFUSED)
            return write
        except DfeUncertain as exc:
            write.state, write.error = (
                DfeWrite.State.UNCERTAIN,
                f"{exc} The portal checks with DfE before trying again.",
            )
            write.save(update_fields=["state", "error", "attempts", "last_attempt_at", "payload"])
            failure = exc
        except DfeUnavailable as exc:
            write.error = str(exc)
            write.save(update_fields=["error", "attempts", "last_attempt_at", "payload"])
            failure = exc
        else:
            _apply_result(dfe_app, write, result)
            write.error = ""
            _settle(write, DfeWrite.State.DONE)
    if failure is not None:  # recorded (committed) first; raised for the task's retry with backoff
        raise failure
    return write


def _refused_but_done(client: DfeClient, write: DfeWrite) -> bool:
    """A refused accept or reject whose outcome DfE already shows (a rejection of an application
    DfE closed itself when another was accepted, or one sent twice) is done, not refused."""
    if write.action not in (A.ACCEPT, A.REJECT):
        return False
    try:
        return _already_done(client, write)
    except (DfeRefused, DfeUnavailable):
        return False


def _settle(write: DfeWrite, state: str) -> None:
    write.state = state
    write.done_at = timezone.now()
    write.save(update_fields=["state", "error", "attempts", "last_attempt_at", "payload", "done_at"])


def _enrolment(client: DfeClient, write: DfeWrite) -> dict | None:
    dfe_app = write.dfe_application
    participant = client.participant(str(dfe_app.participant_id))
    for enrolment in participant["attributes"].get("npq_enrolments") or []:
        if enrolment.get("course_identifier") == dfe_app.course_identifier:
            return enrolment
    return None


def _already_done(client: DfeClient, write: DfeWrite) -> bool:
    """After an uncertain send: does DfE already show the change? Raises DfeRefused when DfE
    shows the opposite decision (accepted when we rejected, or the other way round)."""
    dfe_app = write.dfe_application
    if write.action in (A.ACCEPT, A.REJECT):
        status = client.application(str(dfe_app.dfe_id))["attributes"].get("status")
        wanted = "accepted" if write.action == A.ACCEPT else "rejected"
        if status == wanted:
            dfe_app.status = wanted
            dfe_app.save(update_fields=["status"])
            return True
        if status in ("accepted", "rejected"):
            raise DfeRefused(422, [f"DfE shows this application {status}, not {wanted}."])
        return False
    try:
        enrolment = _enrolment(client, write)
    except DfeRefused:
        return False
    if enrolment is None:
        return False
    if write.action == A.CHANGE_SCHEDULE:
        return enrolment.get("schedule_identifier") == write.payload.get("schedule_identifier")
    return enrolment.get("training_status") == TRAINING_STATUS_AFTER[write.action]


def _precondition(client: DfeClient, write: DfeWrite) -> str:
    """DfE's rules checked before the call, in words (DfE would refuse the change otherwise)."""
    if write.action not in (A.WITHDRAW, A.DEFER):
        return ""
    dfe_app = write.dfe_application
    declarations = [
        d["attributes"]
        for d in client.declarations(participant_id=str(dfe_app.participant_id))
        if d["attributes"].get("course_identifier") == dfe_app.course_identifier
        and d["attributes"].get("state") not in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
    ]
    if write.action == A.WITHDRAW and not any(d.get("declaration_type") == "started" for d in declarations):
        return (
            "DfE withdraws a participant only after a started declaration has been sent for the course. "
            "Send the started declaration first, then withdraw again."
        )
    if write.action == A.DEFER and not declarations:
        return "DfE defers a participant only after a declaration has been sent for the course."
    return ""


def _send(client: DfeClient, write: DfeWrite) -> dict:
    dfe_app = write.dfe_application
    if write.action == A.ACCEPT:
        return client.accept(
            str(dfe_app.dfe_id),
            funded_place=write.payload.get("funded_place"),
            schedule_identifier=write.payload.get("schedule_identifier"),
        )
    if write.action == A.REJECT:
        return client.reject(str(dfe_app.dfe_id))
    return client.participant_change(
        str(dfe_app.participant_id), PARTICIPANT_ACTIONS[write.action], write.payload
    )


def _apply_result(dfe_app: DfeApplication, write: DfeWrite, result: dict) -> None:
    """Keep what DfE answered, so staff see DfE's state without waiting for the next sync."""
    attributes = result.get("attributes") or {}
    if write.action in (A.ACCEPT, A.REJECT):
        dfe_app.status = attributes.get("status") or dfe_app.status
        dfe_app.funded_place = attributes.get("funded_place")
        dfe_app.schedule_identifier = attributes.get("schedule_identifier") or ""
    else:
        for enrolment in attributes.get("npq_enrolments") or []:
            if enrolment.get("course_identifier") == dfe_app.course_identifier:
                dfe_app.training_status = enrolment.get("training_status") or ""
                dfe_app.schedule_identifier = (
                    enrolment.get("schedule_identifier") or dfe_app.schedule_identifier
                )
    dfe_app.save(update_fields=["status", "funded_place", "schedule_identifier", "training_status"])


def send_open_writes(today=None) -> int:
    """The sweep: send every change still open (its task never ran, or its result was uncertain,
    or DfE was away), then every declaration still waiting. How many were settled."""
    if not link_on():
        return 0
    settled = 0
    for write_id in (
        DfeWrite.objects.filter(state__in=DfeWrite.OPEN_STATES).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            write = send_write(write_id)
        except (DfeUncertain, DfeUnavailable):
            continue
        if write is not None and write.state not in DfeWrite.OPEN_STATES:
            settled += 1
    from .declarations import send_open_declarations

    # Declarations waiting are swept with the changes (one job, every 5 minutes).
    return settled + send_open_declarations()


# --- what the portal decides ------------------------------------------------------------------


def participant_change_payload(
    dfe_app: DfeApplication, action: str, *, reason: str = "", schedule: str = ""
) -> dict:
    payload: dict = {"course_identifier": dfe_app.course_identifier}
    if action in (A.WITHDRAW, A.DEFER):
        payload["reason"] = reason
    if action == A.CHANGE_SCHEDULE:
        payload["schedule_identifier"] = schedule
    return payload


def accepted_dfe_application(participant) -> DfeApplication | None:
    """The DfE application behind a participant (through the portal application accepted)."""
    return (
        DfeApplication.objects.filter(application__participant=participant)
        .select_related("lead_provider")
        .first()
    )
