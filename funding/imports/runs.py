"""Running an ImportRun (the Celery task calls this): claiming it, failing it with a message,
waiting for a confirmation, running it again, and failing runs whose worker has gone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from common.csv_files import MalformedFile

from ..models import ImportRun
from .eligibility_lists import ListShrinks, import_eligibility_list
from .gias import import_gias
from .outcome import Outcome, summary

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a run whose worker dies this many times is failed, not started again
IMPORT_LOCK_SPACE = 6002  # advisory lock namespace of import runs (engagement tallies use 6001)


@contextmanager
def _run_lock(run_id: int) -> Iterator[bool]:
    """Whether this process may work on the run: on PostgreSQL, a session advisory lock held for
    as long as a worker works on it. The database releases it when the worker's connection
    ends, so a run marked running whose lock is free has lost its worker. Elsewhere (SQLite,
    one process) always free."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK_SPACE, run_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [IMPORT_LOCK_SPACE, run_id])


def _claim(run: ImportRun) -> bool:
    """Queued -> running (a conditional UPDATE: one worker wins). On PostgreSQL a run left
    running by a worker that died is taken over: we hold its lock, so nobody works on it."""
    claimable = Q(status=ImportRun.Status.QUEUED)
    if connection.vendor == "postgresql":
        claimable |= Q(status=ImportRun.Status.RUNNING)
    now = timezone.now()
    return bool(
        ImportRun.objects.filter(claimable, pk=run.pk).update(
            status=ImportRun.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            rows_total=0,
            rows_done=0,
            message="Checking the file.",
        )
    )


def _execute(run: ImportRun) -> Outcome:
    if run.kind == ImportRun.Kind.GIAS:
        return import_gias(run.file, run=run)
    return import_eligibility_list(
        run.file,
        funding_round=run.funding_round,
        kind=run.list_kind,
        run=run,
        confirmed=run.confirmed_at is not None,
        confirmed_for=run.changes.get("list_digest", "") if run.confirmed_at else "",
    )


def import_run_execute(run: ImportRun) -> ImportRun:
    """Run a queued import. Safe to call twice: a finished run, or one a live worker is on, is
    left as it is. Every error ends the run failed with a message; none leaves it running."""
    with _run_lock(run.pk) as free:
        if not free or not _claim(run):
            return ImportRun.objects.get(pk=run.pk)
        run.refresh_from_db()
        if run.attempts > MAX_ATTEMPTS:
            return _fail(
                run,
                f"The import was started {MAX_ATTEMPTS} times and its worker stopped each time before it "
                "finished (the file may be too large for the worker's memory). Nothing was loaded.",
            )
        try:
            outcome = _execute(run)
        except ListShrinks as exc:
            return _wait_for_confirmation(run, exc.changes)
        except MalformedFile as exc:
            return _fail(run, str(exc), exc.problems)
        except SoftTimeLimitExceeded:
            return _fail(
                run,
                f"The import took longer than the {settings.CELERY_TASK_SOFT_TIME_LIMIT} seconds a worker allows "
                "and was stopped. Nothing was loaded.",
            )
        except OSError as exc:
            logger.exception("Import run %s could not read its file", run.pk)
            return _fail(
                run, f"The uploaded file could not be read ({exc.strerror or exc}). Nothing was loaded."
            )
        except Exception as exc:
            logger.exception("Import run %s failed", run.pk)
            return _fail(
                run,
                f"The import stopped because of an unexpected error ({exc.__class__.__name__}). Nothing was "
                "loaded. The error has been logged; try again, and tell the service team if it happens again.",
            )
        run.status = ImportRun.Status.DONE_WITH_ERRORS if outcome.skipped else ImportRun.Status.DONE
        run.rows_total, run.rows_done = outcome.rows_total, outcome.rows_total
        run.created, run.updated, run.unchanged, run.removed = (
            outcome.created,
            outcome.updated,
            outcome.unchanged,
            outcome.removed,
        )
        run.problems = [list(problem) for problem in outcome.problems]
        run.changes = outcome.changes or run.changes
        run.message = summary(outcome)
        run.finished_at = timezone.now()
        run.save()
        return run


def _fail(run: ImportRun, message: str, problems: list[tuple[int, str]] | None = None) -> ImportRun:
    run.refresh_from_db()
    run.status, run.message, run.finished_at = ImportRun.Status.FAILED, message, timezone.now()
    run.problems = [list(problem) for problem in problems or []]
    run.save()
    return run


def _wait_for_confirmation(run: ImportRun, changes: dict) -> ImportRun:
    run.refresh_from_db()
    share = 100 * changes["incoming"] // changes["current"]
    run.message = (
        f"This file would leave {changes['incoming']:,} of the list's {changes['current']:,} entries "
        f"({share}%), removing {changes['removed']:,}. "
        + (
            "The list has changed since the replacement was confirmed. "
            if changes.get("list_changed")
            else ""
        )
        + "Check the changes and confirm to replace the list. Nothing has been changed yet."
    )
    run.status, run.changes = ImportRun.Status.NEEDS_CONFIRMATION, changes
    run.confirmed_by = run.confirmed_at = None
    run.save()
    return run


def _queue(run_id: int) -> None:
    from ..tasks import run_import

    transaction.on_commit(lambda: run_import.delay(run_id))


def import_run_confirm(*, run: ImportRun, by) -> bool:
    """A superuser confirms a list replacement they have seen: the run is queued again and will
    replace the list if it is still the list they saw. False if it no longer waits."""
    confirmed = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.NEEDS_CONFIRMATION).update(
        status=ImportRun.Status.QUEUED,
        confirmed_by=by,
        confirmed_at=timezone.now(),
        attempts=0,
        message=f"Replacement confirmed by {by}; waiting for a worker.",
    )
    if confirmed:
        _queue(run.pk)
    return bool(confirmed)


def import_run_cancel(*, run: ImportRun, by) -> bool:
    """Keep the current list: the run waiting for confirmation ends, having changed nothing."""
    return bool(
        ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.NEEDS_CONFIRMATION).update(
            status=ImportRun.Status.CANCELLED,
            message=f"{by} chose to keep the current list. Nothing was loaded.",
            finished_at=timezone.now(),
        )
    )


RUN_AGAIN_STATUSES = (ImportRun.Status.FAILED, ImportRun.Status.CANCELLED, ImportRun.Status.QUEUED)


def import_run_again(*, run: ImportRun, by) -> ImportRun | None:
    """A failed or cancelled run's file as a new run, queued; a run still queued (its message
    lost by the broker, say) is sent to the workers again (the claim lets one of them run it).
    None for a run in another state."""
    if run.status not in RUN_AGAIN_STATUSES:
        return None
    if run.status == ImportRun.Status.QUEUED:
        _queue(run.pk)
        return run
    again = ImportRun.objects.create(
        kind=run.kind,
        file=run.file.name,
        funding_round=run.funding_round,
        list_kind=run.list_kind,
        started_by=by,
        rerun_of=run,
    )
    _queue(again.pk)
    return again


def import_runs_fail_stale(*, now: datetime | None = None) -> int:
    """Fail every run still marked running whose worker has not been heard from for
    IMPORT_STALE_MINUTES (on PostgreSQL: and holds no lock on it, so none is working on it).
    Returns how many were failed."""
    now = now or timezone.now()
    minutes = settings.IMPORT_STALE_MINUTES
    cutoff = now - timedelta(minutes=minutes)
    stale = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    failed = 0
    for run in stale.only("pk", "heartbeat_at"):
        with _run_lock(run.pk) as free:
            if not free:
                continue  # a worker is on it (a long transaction), just not writing
            failed += ImportRun.objects.filter(
                pk=run.pk, status=ImportRun.Status.RUNNING, heartbeat_at=run.heartbeat_at
            ).update(
                status=ImportRun.Status.FAILED,
                finished_at=now,
                message=(
                    f"The import stopped without finishing: its worker was last heard from more than {minutes} "
                    "minutes ago (it may have been restarted or run out of memory). Nothing was loaded: "
                    "a file is loaded all at once or not at all. Use \u201cRun again\u201d to import it again."
                ),
            )
    return failed
