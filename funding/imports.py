"""Imports of GIAS establishments and DfE eligibility lists from CSV files.

Both are idempotent (importing the same file again changes nothing) and all or nothing: a file
is read through once to check it (its encoding, every row's shape; progress and a heartbeat
written as it goes), then loaded in one transaction, so a file that is refused, an error or a
killed worker leaves the data as it was (docs/decisions.md, 25). GIAS rows are staged in a
temporary table as they are checked (COPY), then loaded with one upsert (decisions.md, 32). Bad values in a row skip that
row, reported with its line number; a row of the wrong shape refuses the file.

A list is replaced only by a file that would keep at least half of it, unless a superuser has
seen the changes and confirmed them (``ImportRun.Status.NEEDS_CONFIRMATION``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import pluralize
from django.utils import timezone

from common.csv_files import NOTHING_LOADED, CsvFile, MalformedFile, Source, check_file, decode, source_of

from .dfe_lists import ListFormatError, identifier_of, resolve_kind
from .models import (
    EarlyYearsProvider,
    EligibilityListChange,
    EligibilityListEntry,
    FundingRound,
    ImportRun,
    Institution,
)

__all__ = ["MalformedFile", "decode", "import_eligibility_list", "import_gias", "import_run_execute"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
PROGRESS_EVERY = 5000  # rows between heartbeats while a file is checked
PROBLEMS_KEPT = 1000  # skipped rows listed on a run (all are counted)
MAX_ATTEMPTS = 3  # a run whose worker dies this many times is failed, not started again
# A list replaced by a file with fewer entries than this share of it needs confirming.
CONFIRM_BELOW_SHARE = 0.5
SAMPLE_SIZE = 20
MAX_LIST_ENTRIES = 500_000
IMPORT_LOCK_SPACE = 6002  # advisory lock namespace of import runs (engagement tallies use 6001)

Data = bytes | Path | FieldFile

# GIAS "edubasealldata" column -> Institution field.
GIAS_COLUMNS = {
    "URN": "urn",
    "UKPRN": "ukprn",
    "EstablishmentName": "name",
    "TypeOfEstablishment (code)": "establishment_type_code",
    "TypeOfEstablishment (name)": "establishment_type_name",
    "EstablishmentStatus (name)": "status",
    "PhaseOfEducation (name)": "phase",
    "NumberOfPupils": "number_of_pupils",
    "LA (code)": "la_code",
    "LA (name)": "la_name",
    "Postcode": "postcode",
    "OpenDate": "open_date",
    "CloseDate": "close_date",
}
INSTITUTION_FIELDS = [f for f in GIAS_COLUMNS.values() if f != "urn"]


class BadRow(ValueError):
    """One row cannot be read: it is skipped and reported with its line number."""


class ListShrinks(Exception):
    """The file would leave fewer than half of the list's entries: nothing is changed until a
    superuser confirms, having seen ``changes``."""

    def __init__(self, changes: dict):
        super().__init__("The list would shrink by more than half.")
        self.changes = changes


@dataclass
class Outcome:
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first PROBLEMS_KEPT
    changes: dict = field(default_factory=dict)
    kind: str = ""  # the eligibility list loaded (its file's header may have said which)

    def skip(self, line: int, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append((line, message))


class _Progress:
    """Rows checked so far and a heartbeat, committed on the run every PROGRESS_EVERY rows."""

    def __init__(self, run: ImportRun | None):
        self.run = run

    def __call__(self, rows: int, *, force: bool = False, **values) -> None:
        if self.run is not None and (force or rows % PROGRESS_EVERY == 0):
            ImportRun.objects.filter(pk=self.run.pk).update(
                rows_done=rows, heartbeat_at=timezone.now(), **values
            )


# --- Values ---------------------------------------------------------------------------------------

EXCEL_WHOLE_NUMBER = re.compile(r"^(\d+)\.0+$")


def _digits(value: str) -> str:
    """A whole number as typed, or as a spreadsheet writes it (``100000.0``)."""
    value = value.strip()
    if "." not in value:
        return value  # the common case, without a regular expression per value
    match = EXCEL_WHOLE_NUMBER.match(value)
    return match.group(1) if match else value


def _number(value: str, column: str, *, required: bool = False) -> int | None:
    value = _digits(value)
    if not value:
        if required:
            raise BadRow(f"{column} is empty")
        return None
    if not (value.isascii() and value.isdigit()):
        raise BadRow(f"{column} {value!r} is not a whole number")
    return int(value)


GIAS_DATE = re.compile(r"^(\d{1,2})([-/])(\d{1,2})\2(\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$")


@lru_cache(maxsize=4096)
def _date_named(value: str) -> date | None:
    """The date a stripped text names, None if it names none. Cached: a GIAS file of 50,000
    establishments repeats a few thousand opening dates."""
    match = GIAS_DATE.match(value)
    if match:
        day, _, month, year, iso_year, iso_month, iso_day = match.groups()
        try:
            if year:
                return date(int(year), int(month), int(day))
            return date(int(iso_year), int(iso_month), int(iso_day))
        except ValueError:
            pass
    return None


def _date(value: str, column: str) -> date | None:
    """01-09-2015 (GIAS), 01/09/2015 or 2015-09-01."""
    value = value.strip()
    if not value:
        return None
    named = _date_named(value)
    if named is None:
        raise BadRow(f"{column} {value!r} is not a date like 01-09-2015")
    return named


def parse_gias_row(row: dict[str, str]) -> dict:
    name = row["EstablishmentName"].strip()
    if not name:
        raise BadRow("EstablishmentName is empty")
    la_code = _digits(row["LA (code)"])
    if la_code and not (la_code.isascii() and la_code.isdigit() and len(la_code) <= 3):
        raise BadRow(f"LA (code) {la_code!r} is not a 3-digit code")
    return {
        "urn": _number(row["URN"], "URN", required=True),
        "ukprn": _number(row["UKPRN"], "UKPRN"),
        "name": name[:255],
        "establishment_type_code": _number(row["TypeOfEstablishment (code)"], "TypeOfEstablishment (code)"),
        "establishment_type_name": row["TypeOfEstablishment (name)"].strip()[:120],
        "status": row["EstablishmentStatus (name)"].strip()[:60],
        "phase": row["PhaseOfEducation (name)"].strip()[:60],
        "number_of_pupils": _number(row["NumberOfPupils"], "NumberOfPupils"),
        "la_code": la_code.zfill(3) if la_code else "",
        "la_name": row["LA (name)"].strip()[:120],
        "postcode": row["Postcode"].strip().upper()[:10],
        "open_date": _date(row["OpenDate"], "OpenDate"),
        "close_date": _date(row["CloseDate"], "CloseDate"),
    }


# --- GIAS ---------------------------------------------------------------------------------------


def _gias_rows(source: Source, encoding: str) -> Iterator[tuple[int, dict | BadRow]]:
    with source() as handle:
        csv_file = CsvFile(handle, encoding)
        csv_file.require(set(GIAS_COLUMNS))
        for line, row in csv_file.rows(list(GIAS_COLUMNS)):
            try:
                yield line, parse_gias_row(row)
            except BadRow as exc:
                yield line, exc


def import_gias(data: Data, *, run: ImportRun | None = None) -> Outcome:
    """Upsert GIAS establishments by URN, all or nothing. Raises MalformedFile for a bad file.

    The file is read once, row by row: each readable row, the first of its URN, is staged in a
    temporary table of the session (COPY on PostgreSQL, a few thousand rows at a time, with
    progress between). Then one transaction makes the establishments the staged rows with one
    INSERT ... ON CONFLICT statement. Nothing is held in memory but the URNs seen."""
    source = source_of(data)
    encoding = check_file(source)
    outcome, progress, seen = Outcome(), _Progress(run), set()
    with _staging() as stage:
        for line, values in _gias_rows(source, encoding):
            outcome.rows_total += 1
            if isinstance(values, BadRow):
                outcome.skip(line, str(values))
            elif values["urn"] in seen:
                outcome.skip(line, f"URN {values['urn']} appears more than once; the first is kept")
            else:
                seen.add(values["urn"])
                stage(values)
            progress(outcome.rows_total)
        stage(None)  # the last rows
        loading = len(seen)
        if not loading:
            raise MalformedFile(
                f"None of the file's {outcome.rows_total} row{pluralize(outcome.rows_total)} could be read. "
                "Nothing was loaded.",
                outcome.problems,
            )
        seen.clear()
        progress(
            0, force=True, rows_total=loading, message=f"Loading {loading:,} establishments, all or nothing."
        )
        with transaction.atomic():
            _load_staged(outcome, loading)
    return outcome


STAGED = "gias_staged"
STAGE_ROWS = 5000  # rows sent to the temporary table at a time
GIAS_FIELDS = ("urn", *INSTITUTION_FIELDS)


@contextmanager
def _staging() -> Iterator[Callable[[dict | None], None]]:
    """A temporary table like the establishments' (dropped afterwards, and with the session if
    the worker dies) and a function staging a row in it (None: send what is waiting)."""
    qn = connection.ops.quote_name
    fields = [Institution._meta.get_field(name) for name in GIAS_FIELDS]
    columns = ", ".join(qn(f.column) for f in fields)
    waiting: list[tuple] = []
    row_of = itemgetter(*GIAS_FIELDS)  # a parsed row's values in column order

    def send() -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {STAGED} ({columns}) FROM STDIN") as copy:
                    for row in waiting:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO {STAGED} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})",  # noqa: S608 - names from the model
                    [
                        [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                        for row in waiting
                    ],
                )
        waiting.clear()

    def stage(values: dict | None) -> None:
        if values is not None:
            waiting.append(row_of(values))
        if waiting and (values is None or len(waiting) >= STAGE_ROWS):
            send()

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGED}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGED} ("
            + ", ".join(f"{qn(f.column)} {f.db_type(connection)}" for f in fields)
            + ")"
        )
    try:
        yield stage
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED}")


def _load_staged(outcome: Outcome, loading: int) -> None:
    """Make the establishments the staged rows with one INSERT ... ON CONFLICT (urn) DO UPDATE
    that rewrites only the rows whose values differ (``IS DISTINCT FROM``: a NULL equals a NULL;
    SQLite's ``IS NOT``), so unchanged rows stay as they are; counted against what was there."""
    qn = connection.ops.quote_name
    columns = [qn(Institution._meta.get_field(name).column) for name in GIAS_FIELDS]
    table = qn(Institution._meta.db_table)
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {STAGED} s JOIN {table} i ON i.{columns[0]} = s.{columns[0]}")  # noqa: S608 - names from the model
        existing = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {STAGED} WHERE true"  # noqa: S608
            f" ON CONFLICT ({columns[0]}) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
            + " WHERE "
            + " OR ".join(f"{table}.{c} {differs} EXCLUDED.{c}" for c in columns[1:])
        )
        written = cursor.rowcount  # rows inserted or updated; not those left unchanged
    outcome.created = loading - existing
    outcome.updated = written - outcome.created
    outcome.unchanged = existing - outcome.updated


# --- Eligibility lists ----------------------------------------------------------------------------

IDENTIFIER_COLUMNS = ("URN", "UKPRN", "Ofsted URN", "Identifier")
OFSTED_URN = re.compile(r"^EY\d{6}$")


def parse_identifier(value: str) -> str:
    value = _digits(value).upper()
    if value.isascii() and value.isdigit() and 5 <= len(value) <= 8:
        return value
    if OFSTED_URN.match(value):
        return value
    raise BadRow(f"{value!r} is not a URN, UKPRN or Ofsted URN (like EY123456)")


def _list_identifiers(
    source: Source, encoding: str, outcome: Outcome, progress: _Progress, chosen_kind: str
) -> set[str]:
    """The file's settings. A DfE list file is recognised by its header (funding/dfe_lists.py);
    the list loaded is set on ``outcome.kind``."""
    wanted: set[str] = set()
    with source() as handle:
        csv_file = CsvFile(handle, encoding)
        try:
            outcome.kind, list_format = resolve_kind(csv_file.header, chosen_kind)
        except ListFormatError as exc:
            raise MalformedFile(f"{exc} {NOTHING_LOADED}") from None
        if list_format is not None:
            # The header's own spelling of DfE's columns (an early years file may lack "Ofsted URN").
            spelled = {csv_file.column(name): name for name in list_format.columns if csv_file.column(name)}

            def read(row: dict[str, str]) -> str:
                return identifier_of({spelled[column]: value for column, value in row.items()}, list_format)

            columns = list(spelled)
        else:
            column = csv_file.column(*IDENTIFIER_COLUMNS)
            if column is None:
                raise MalformedFile(
                    "The file needs a column named URN, UKPRN or Ofsted URN identifying each setting. Nothing was loaded."
                )

            def read(row: dict[str, str]) -> str:
                return parse_identifier(row[column])

            columns = [column]
        for line, row in csv_file.rows(columns):
            outcome.rows_total += 1
            progress(outcome.rows_total)
            try:
                identifier = read(row)
            except ValueError as exc:  # BadRow, or a DfE list's identifier in the wrong form
                outcome.skip(line, str(exc))
                continue
            if identifier in wanted:
                outcome.skip(line, f"{identifier} appears more than once")
                continue
            wanted.add(identifier)
            if len(wanted) > MAX_LIST_ENTRIES:
                raise MalformedFile(
                    f"The file has more than {MAX_LIST_ENTRIES:,} settings: it is not an eligibility list. "
                    "Nothing was loaded."
                )
    if not wanted:
        raise MalformedFile(
            f"None of the file's {outcome.rows_total} row{pluralize(outcome.rows_total)} has a URN, UKPRN or "
            "Ofsted URN that can be read, so the list would be emptied. Nothing was loaded.",
            outcome.problems,
        )
    return wanted


def list_digest(identifiers: set[str]) -> str:
    """A fingerprint of a list's entries: a confirmation holds only for the list it was given for."""
    return hashlib.sha256("\n".join(sorted(identifiers)).encode()).hexdigest()


def list_changes(current: set[str], wanted: set[str]) -> dict:
    added, removed = sorted(wanted - current), sorted(current - wanted)
    return {
        "current": len(current),
        "incoming": len(wanted),
        "added": len(added),
        "removed": len(removed),
        "unchanged": len(current & wanted),
        "added_sample": added[:SAMPLE_SIZE],
        "removed_sample": removed[:SAMPLE_SIZE],
        "list_digest": list_digest(current),
    }


def identifier_names(identifiers: list[str]) -> dict[str, str]:
    """The establishments' names, where GIAS or the early years register knows them."""
    numbers = [int(i) for i in identifiers if i.isdigit()]
    names: dict[str, str] = {}
    for urn, ukprn, name in Institution.objects.filter(Q(urn__in=numbers) | Q(ukprn__in=numbers)).values_list(
        "urn", "ukprn", "name"
    ):
        names.setdefault(str(urn), name)
        if ukprn is not None:
            names.setdefault(str(ukprn), name)
    ofsted = [i for i in identifiers if not i.isdigit()]
    names.update(EarlyYearsProvider.objects.filter(ofsted_urn__in=ofsted).values_list("ofsted_urn", "name"))
    return {i: names[i] for i in identifiers if i in names}


def needs_confirmation(changes: dict) -> bool:
    return changes["current"] > 0 and changes["incoming"] < CONFIRM_BELOW_SHARE * changes["current"]


def import_eligibility_list(
    data: Data,
    *,
    funding_round: FundingRound,
    kind: str = "",
    run: ImportRun | None = None,
    confirmed: bool = False,
    confirmed_for: str = "",
    by=None,
) -> Outcome:
    """Make the stored list of ``funding_round`` exactly the file's settings, in one transaction,
    recording what it added and removed (EligibilityListChange). The list is the one the file's
    header shows (one of DfE's six), which must be ``kind`` when that is given; a file of another
    shape loads into ``kind``.

    A file that would leave fewer than half of the list's entries raises ListShrinks unless
    ``confirmed`` (for the list whose digest is ``confirmed_for``, when given: a list changed
    since it was confirmed needs confirming again).
    """
    source = source_of(data)
    encoding = check_file(source)
    outcome, progress = Outcome(), _Progress(run)
    wanted = _list_identifiers(source, encoding, outcome, progress, kind)
    kind = outcome.kind
    progress(outcome.rows_total, force=True, rows_total=outcome.rows_total)
    with transaction.atomic():
        # Two imports of lists of one round take turns: each compares with the list it replaces.
        FundingRound.objects.select_for_update().filter(pk=funding_round.pk).first()
        entries = EligibilityListEntry.objects.filter(funding_round=funding_round, kind=kind)
        current = set(entries.values_list("identifier", flat=True))
        changes = outcome.changes = list_changes(current, wanted)
        if needs_confirmation(changes):
            if confirmed_for and confirmed_for != changes["list_digest"]:
                changes["list_changed"] = True
                raise ListShrinks(changes)
            if not confirmed:
                raise ListShrinks(changes)
        EligibilityListEntry.objects.bulk_create(
            [
                EligibilityListEntry(funding_round=funding_round, kind=kind, identifier=i)
                for i in sorted(wanted - current)
            ],
            batch_size=BATCH_SIZE,
        )
        removed = sorted(current - wanted)
        for start in range(0, len(removed), BATCH_SIZE):
            part = removed[start : start + BATCH_SIZE]
            outcome.removed += entries.filter(identifier__in=part).delete()[0]
        if changes["added"] or changes["removed"]:
            EligibilityListChange.objects.create(
                funding_round=funding_round,
                kind=kind,
                import_run=run,
                replaced_by=by or (run and (run.confirmed_by or run.started_by)),
                replaced_at=timezone.now(),
                entries_before=len(current),
                entries_after=len(wanted),
                added=sorted(wanted - current),
                removed=removed,
            )
    outcome.created = changes["added"]
    outcome.unchanged = changes["unchanged"]
    return outcome


# --- Running an ImportRun (the Celery task calls this) -------------------------------------------


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
    from .tasks import run_import

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


def summary(outcome: Outcome) -> str:
    text = (
        f"{outcome.rows_total} row{pluralize(outcome.rows_total)} read: {outcome.created} added, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged"
    )
    if outcome.removed:
        text += f", {outcome.removed} removed"
    if outcome.skipped:
        text += f"; {outcome.skipped} row{pluralize(outcome.skipped)} skipped"
    return text + "."
