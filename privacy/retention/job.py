"""The nightly job: everything due, kind by kind, in batches (each one transaction whose files
are deleted after it commits), each kind's count recorded."""

from __future__ import annotations

from datetime import datetime

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ..kinds import KINDS
from ..models import RetentionRun
from .due import orphan_files_due, people_due, rows_due
from .schedule import FILE_KIND, SCHEDULES

BATCH_SIZE = 500
PEOPLE_BATCH_SIZE = 50


def retention_apply(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete or anonymise everything due, kind by kind, in batches; record each kind's count.
    Returns the number of records (and orphan files) removed."""
    from ..services import delete_files_after_commit

    now = now or timezone.now()
    total = 0
    for kind in KINDS:
        removed = files_deleted = 0
        if kind == FILE_KIND:
            names = orphan_files_due(now)
            for name in names:
                default_storage.delete(name)
            removed = files_deleted = len(names)
        else:
            schedule = SCHEDULES[kind]
            tried: set[int] = set()
            size = PEOPLE_BATCH_SIZE if kind in ("participants", "inactive_accounts") else batch_size
            while True:
                due = people_due(now) if kind == "participants" else rows_due(kind, now)
                pks = list(due.exclude(pk__in=tried).order_by("pk").values_list("pk", flat=True)[:size])
                if not pks:
                    break
                tried.update(pks)  # a row that could not go is not tried again in this run
                with transaction.atomic():
                    done, files = schedule.apply(pks)
                    delete_files_after_commit(files)
                removed += done
                files_deleted += len(files)
        if removed:
            RetentionRun.objects.create(kind=kind, ran_at=now, removed=removed, files_deleted=files_deleted)
        total += removed
    return total
