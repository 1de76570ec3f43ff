"""Reading DfE's applications into the portal (decisions.md, 38).

Keyset paging on ``filter[updated_since]`` sorted by ``updated_at``: each page is stored in one
transaction together with the cursor, so a worker killed mid-run loses at most the page it was
reading, and the next run starts from the last page stored. Storing is an upsert on DfE's unique
application id, so a page read twice (a retry, two runs at once) changes nothing the second time."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from applications.models import Application

from .client import DfeClient, DfeError, client_for, link_on
from .crypto import TokenKeyMissing
from .identifiers import PROGRAMME_CODES
from .models import DfeApplication, LeadProviderAccount, SyncRun
from .timestamps import parse_dfe_time

logger = logging.getLogger(__name__)

# An application in the portal that a DfE application may be linked to: one the teacher has
# submitted (its TRN is recorded then) and that is not linked to another DfE application.
LINKABLE = [s for s in Application.Status.values if s != Application.Status.DRAFT]


def _when(value: str | None) -> datetime:
    parsed = parse_dfe_time(value or "")
    if parsed is None:
        raise ValueError(f"not a date and time: {value!r}")
    return parsed


def sync_all(today=None) -> int:
    """Every lead provider with a token: how many applications were read. Nothing when the link is off."""
    if not link_on():
        return 0
    sync_runs_close_abandoned()
    pulled = 0
    for account in LeadProviderAccount.objects.exclude(token_encrypted="").select_related("lead_provider"):
        run = sync_applications(account=account)
        pulled += run.pulled
        if not run.error:
            _sync_participants(account, run)
    return pulled


def sync_runs_close_abandoned(*, now: datetime | None = None) -> int:
    """Runs still open past the task time limit died with their worker: say so (what they stored
    stays, and the next run goes on from the last page stored)."""
    now = now or timezone.now()
    return SyncRun.objects.filter(
        finished_at__isnull=True,
        started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    ).update(
        finished_at=now,
        error="Did not finish: its worker stopped; the next run went on from the last page stored",
    )


def _sync_participants(account: LeadProviderAccount, run: SyncRun) -> None:
    """Then the participants (training status, schedule, merged ids); a failure is told on the run."""
    from .participants import sync_participants

    try:
        sync_participants(account=account)
    except (DfeError, TokenKeyMissing, ValueError, KeyError, TypeError) as exc:
        SyncRun.objects.filter(pk=run.pk).update(error=f"Participants not read: {exc}")
        logger.warning("DfE participants of %s not read: %s", account.lead_provider, exc)


def sync_applications(*, account: LeadProviderAccount, client: DfeClient | None = None) -> SyncRun:
    """Read the lead provider's applications changed since its cursor, page by page."""
    account.refresh_from_db(fields=["applications_cursor"])  # where the last page stored left it
    run = SyncRun.objects.create(
        lead_provider=account.lead_provider,
        started_at=timezone.now(),
        cursor_from=account.applications_cursor,
    )
    try:
        client = client or client_for(account)
        cursor = account.applications_cursor
        page = 1
        while True:
            # Always the first page after the cursor (keyset paging): a record changed meanwhile
            # moves after the cursor and is read again, never skipped by shifted offsets. Only a
            # full page of one instant moves on by page number.
            rows = _read_page(client, cursor, page)
            if not rows:
                break
            newest = _store_page(account, run, rows, cursor)
            page = page + 1 if newest == cursor else 1
            cursor = newest
            if len(rows) < PAGE:
                break
    except (DfeError, TokenKeyMissing) as exc:
        run.error = str(exc)
        logger.warning("DfE sync of %s stopped: %s", account.lead_provider, exc)
    SyncRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), error=run.error)
    run.refresh_from_db()
    return run


PAGE = 100


def _read_page(client: DfeClient, cursor: datetime | None, page: int) -> list[dict]:
    return client.applications_page(updated_since=cursor, page=page, per_page=PAGE)


@transaction.atomic
def _store_page(
    account: LeadProviderAccount, run: SyncRun, rows: list[dict], cursor: datetime | None
) -> datetime | None:
    """Store one page and move the cursor to its newest change, in one transaction."""
    # Lock the account: two runs at once store their pages one after the other, and the cursor
    # only ever moves forward.
    locked = LeadProviderAccount.objects.select_for_update().get(pk=account.pk)
    created = updated = failed = pulled = 0
    newest = cursor
    seen = _seen_at_cursor(rows, cursor)
    for row in rows:
        if isinstance(row, dict) and row.get("id") in seen:
            continue  # the last page's newest record, read again (DfE's filter is inclusive)
        pulled += 1
        try:
            with transaction.atomic():
                was_created, changed, when = store_application(account.lead_provider_id, row)
        except (ValueError, KeyError, TypeError, IntegrityError) as exc:
            failed += 1
            logger.warning(
                "DfE application %s not stored: %s", row.get("id") if isinstance(row, dict) else "?", exc
            )
            continue
        created += was_created
        updated += changed and not was_created
        if newest is None or when > newest:
            newest = when
    if newest is not None and (locked.applications_cursor is None or newest > locked.applications_cursor):
        LeadProviderAccount.objects.filter(pk=account.pk).update(applications_cursor=newest)
    SyncRun.objects.filter(pk=run.pk).update(
        pages=F("pages") + 1,
        pulled=F("pulled") + pulled,
        created=F("created") + created,
        updated=F("updated") + updated,
        failed=F("failed") + failed,
        cursor_to=newest,
    )
    return newest


def _seen_at_cursor(rows: list, cursor: datetime | None) -> set[str]:
    """The ids of rows changed no later than the cursor and stored already at that version (one query)."""
    if cursor is None:
        return set()
    candidates: dict[str, datetime] = {}
    for row in rows:
        try:
            when = _when(row["attributes"]["updated_at"])
            if when <= cursor:
                candidates[str(uuid.UUID(row["id"]))] = when
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    if not candidates:
        return set()
    stored = DfeApplication.objects.filter(dfe_id__in=list(candidates)).values_list(
        "dfe_id", "dfe_updated_at"
    )
    return {str(dfe_id) for dfe_id, at in stored if at >= candidates[str(dfe_id)]}


def store_application(lead_provider_id: int, row: dict) -> tuple[bool, bool, datetime]:
    """Create or update one DfE application (by its DfE id); link and invite. (created, changed, when)."""
    dfe_id = uuid.UUID(row["id"])
    a = row["attributes"]
    when = _when(a["updated_at"])
    fields = {
        "participant_id": uuid.UUID(a["participant_id"]),
        "course_identifier": a["course_identifier"],
        "cohort": a.get("cohort") or "",
        "cohort_suffix": a.get("cohort_suffix") or "",
        "status": a.get("status") or DfeApplication.Status.PENDING,
        "schedule_identifier": a.get("schedule_identifier") or "",
        "funded_place": a.get("funded_place"),
        "eligible_for_funding": a.get("eligible_for_funding"),
        "full_name": a["full_name"][:200],
        "email": (a.get("email") or "")[:254],
        "trn": (a.get("teacher_reference_number") or "")[:7],
        "dfe_updated_at": when,
        "attributes": a,
    }
    now = timezone.now()
    existing = DfeApplication.objects.select_for_update().filter(dfe_id=dfe_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                dfe_app = DfeApplication.objects.create(
                    dfe_id=dfe_id,
                    lead_provider_id=lead_provider_id,
                    first_seen_at=now,
                    last_seen_at=now,
                    **fields,
                )
        except IntegrityError:  # stored by a run at the same time: update that row instead
            existing = DfeApplication.objects.select_for_update().get(dfe_id=dfe_id)
        else:
            link_and_invite(dfe_app)
            return True, True, when
    if existing.lead_provider_id != lead_provider_id:
        raise ValueError("the application belongs to another lead provider")
    changed = existing.dfe_updated_at < when
    if changed:  # an older copy (a page read late) never overwrites a newer one
        for name, value in fields.items():
            setattr(existing, name, value)
    existing.last_seen_at = now
    existing.save()
    link_and_invite(existing)
    return False, changed, when


def link_and_invite(dfe_app: DfeApplication) -> None:
    """Link to the teacher's portal application (by TRN and email, for the same NPQ with one of
    the lead provider's hubs); if there is none yet, invite the teacher to fill it in, once."""
    if dfe_app.application_id is None:
        application = find_portal_application(dfe_app)
        if application is not None:
            dfe_app.application = application
            dfe_app.save(update_fields=["application"])
            return
        if dfe_app.status == DfeApplication.Status.PENDING and dfe_app.invited_at is None and dfe_app.email:
            invite(dfe_app)


def find_portal_application(dfe_app: DfeApplication) -> Application | None:
    code = PROGRAMME_CODES.get(dfe_app.course_identifier)
    if not code or not dfe_app.trn:
        return None
    return (
        Application.objects.filter(
            trn=dfe_app.trn,
            user__email__iexact=dfe_app.email,
            course__programme__code=code,
            cohort__hub__lead_provider_id=dfe_app.lead_provider_id,
            status__in=LINKABLE,
            dfe__isnull=True,
        )
        .order_by("-submitted_at", "-pk")
        .first()
    )


def link_submitted_application(application: Application) -> DfeApplication | None:
    """When a teacher submits the portal's application: link the DfE application waiting for it."""
    if application.course_id is None:
        return None
    from .identifiers import COURSE_IDENTIFIERS

    identifier = COURSE_IDENTIFIERS.get(application.course.programme.code)
    dfe_app = (
        DfeApplication.objects.select_for_update()
        .filter(
            application__isnull=True,
            trn=application.trn,
            email__iexact=application.user.email,
            course_identifier=identifier,
            lead_provider_id=application.cohort.hub.lead_provider_id,
        )
        .exclude(trn="")
        .order_by("-dfe_updated_at")
        .first()
    )
    if dfe_app is not None and not DfeApplication.objects.filter(application=application).exists():
        dfe_app.application = application
        dfe_app.save(update_fields=["application"])
    return dfe_app


def invite(dfe_app: DfeApplication) -> None:
    """Ask a teacher who chose us at DfE to fill in the portal's application (within 5 days)."""
    from notifications.services import notify

    notify(
        kind="dfe_invitation",
        recipient=dfe_app.email,
        about=dfe_app,
        occurrence="invited",
        title="Complete your NPQ application",
        template="dfe_invitation",
        context={
            "full_name": dfe_app.full_name,
            "lead_provider": dfe_app.lead_provider.name,
            "days": settings.APPLICATION_COMPLETION_DAYS,
        },
        link=settings.SITE_URL + reverse("apply"),
    )
    dfe_app.invited_at = timezone.now()
    dfe_app.save(update_fields=["invited_at"])
