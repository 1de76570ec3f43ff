"""Reading DfE's participants: each enrolment's training status and schedule as DfE holds them,
and the participant id DfE now uses (DfE merges duplicate participants: participant_id_changes).
Keyset pages stored with their cursor, as the applications are (dfe/sync.py, decisions.md 38)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction

from .client import DfeClient, client_for
from .models import DfeApplication, LeadProviderAccount
from .timestamps import parse_dfe_time

PAGE = 100


def sync_participants(*, account: LeadProviderAccount, client: DfeClient | None = None) -> int:
    """How many participant records were read. DfE's errors are raised for the caller to record."""
    account.refresh_from_db(fields=["participants_cursor"])
    client = client or client_for(account)
    cursor, page, read = account.participants_cursor, 1, 0
    while True:
        rows = client.participants_page(updated_since=cursor, page=page, per_page=PAGE)
        if not rows:
            break
        newest = _store_page(account, rows, cursor)
        read += len(rows)
        page = page + 1 if newest == cursor else 1
        cursor = newest
        if len(rows) < PAGE:
            break
    return read


@transaction.atomic
def _store_page(account: LeadProviderAccount, rows: list[dict], cursor: datetime | None) -> datetime | None:
    locked = LeadProviderAccount.objects.select_for_update().get(pk=account.pk)
    newest = cursor
    for row in rows:
        when = parse_dfe_time(row["attributes"]["updated_at"])
        participant_id = uuid.UUID(row["id"])
        for enrolment in row["attributes"].get("npq_enrolments") or []:
            DfeApplication.objects.filter(
                lead_provider_id=account.lead_provider_id, dfe_id=enrolment["npq_application_id"]
            ).update(
                participant_id=participant_id,
                training_status=enrolment.get("training_status") or "",
                schedule_identifier=enrolment.get("schedule_identifier") or "",
            )
        if when is not None and (newest is None or when > newest):
            newest = when
    if newest is not None and (locked.participants_cursor is None or newest > locked.participants_cursor):
        LeadProviderAccount.objects.filter(pk=account.pk).update(participants_cursor=newest)
    return newest
