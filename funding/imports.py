"""Imports of GIAS establishments and DfE eligibility lists from CSV files.

Both are idempotent (importing the same file again changes nothing), report each bad row with
its line number while loading the good ones, and load nothing from a file whose columns are
wrong. Progress is written to the ImportRun between batches so that admin can show it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from .models import EligibilityListEntry, ImportRun, Institution

BATCH_SIZE = 1000

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


class MalformedFile(ValueError):
    """The file as a whole cannot be read: nothing is loaded."""


class BadRow(ValueError):
    """One row cannot be read: it is skipped and reported with its line number."""


@dataclass
class Outcome:
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """GIAS publishes Windows-1252 (Latin-1); other sources send UTF-8, sometimes with a BOM."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _rows(text: str, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = set(reader.fieldnames or [])
    missing = sorted(required - header)
    if missing:
        raise MalformedFile(
            f"The file is missing the column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f'"{name}"' for name in missing)
            + ". Nothing was loaded."
        )
    for row in reader:
        if None in row:
            raise MalformedFile(
                f"Line {reader.line_num} has more values than the header. Nothing was loaded."
            )
        yield reader.line_num, row


def _number(value: str, column: str, *, required: bool = False) -> int | None:
    value = value.strip()
    if not value:
        if required:
            raise BadRow(f"{column} is empty")
        return None
    if not value.isdigit():
        raise BadRow(f"{column} {value!r} is not a whole number")
    return int(value)


def _date(value: str, column: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for pattern in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise BadRow(f"{column} {value!r} is not a date like 01-09-2015")


def parse_gias_row(row: dict[str, str]) -> dict:
    name = row["EstablishmentName"].strip()
    if not name:
        raise BadRow("EstablishmentName is empty")
    la_code = row["LA (code)"].strip()
    if la_code and not (la_code.isdigit() and len(la_code) <= 3):
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


def _progress(run: ImportRun | None, outcome: Outcome, done: int) -> None:
    if run is not None:
        ImportRun.objects.filter(pk=run.pk).update(
            rows_total=outcome.rows_total,
            rows_done=done,
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
        )


def import_gias(raw: bytes, *, run: ImportRun | None = None) -> Outcome:
    """Upsert GIAS establishments by URN. Raises MalformedFile (nothing loaded) for a bad file."""
    outcome = Outcome()
    good: dict[int, dict] = {}
    for line, row in _rows(decode(raw), set(GIAS_COLUMNS)):
        outcome.rows_total += 1
        try:
            values = parse_gias_row(row)
        except BadRow as exc:
            outcome.problems.append((line, str(exc)))
            continue
        if values["urn"] in good:
            outcome.problems.append((line, f"URN {values['urn']} appears more than once; the first is kept"))
            continue
        good[values["urn"]] = values
    urns = list(good)
    for start in range(0, len(urns), BATCH_SIZE):
        batch = {urn: good[urn] for urn in urns[start : start + BATCH_SIZE]}
        _upsert_institutions(batch, outcome)
        _progress(run, outcome, min(start + BATCH_SIZE, len(urns)))
    return outcome


@transaction.atomic
def _upsert_institutions(batch: dict[int, dict], outcome: Outcome) -> None:
    existing = {i.urn: i for i in Institution.objects.filter(urn__in=batch)}
    new, changed = [], []
    for urn, values in batch.items():
        current = existing.get(urn)
        if current is None:
            new.append(Institution(**values))
        elif any(getattr(current, name) != values[name] for name in INSTITUTION_FIELDS):
            for name in INSTITUTION_FIELDS:
                setattr(current, name, values[name])
            changed.append(current)
        else:
            outcome.unchanged += 1
    Institution.objects.bulk_create(new, batch_size=BATCH_SIZE)
    Institution.objects.bulk_update(changed, INSTITUTION_FIELDS, batch_size=BATCH_SIZE)
    outcome.created += len(new)
    outcome.updated += len(changed)


# --- Eligibility lists ----------------------------------------------------------------------------

IDENTIFIER_COLUMNS = ("URN", "UKPRN", "Ofsted URN", "Identifier")
OFSTED_URN = re.compile(r"^EY\d{6}$")


def _identifier_column(text: str) -> str:
    header = next(csv.reader(io.StringIO(text)), [])
    by_name = {name.strip().lower(): name for name in header}
    for wanted in IDENTIFIER_COLUMNS:
        if wanted.lower() in by_name:
            return by_name[wanted.lower()]
    raise MalformedFile(
        "The file needs a column named URN, UKPRN or Ofsted URN identifying each setting. Nothing was loaded."
    )


def parse_identifier(value: str) -> str:
    value = value.strip().upper()
    if value.isdigit() and 5 <= len(value) <= 8:
        return value
    if OFSTED_URN.match(value):
        return value
    raise BadRow(f"{value!r} is not a URN, UKPRN or Ofsted URN (like EY123456)")


@transaction.atomic
def import_eligibility_list(raw: bytes, *, funding_round, kind: str, run: ImportRun | None = None) -> Outcome:
    """Make the stored list ``kind`` of ``funding_round`` exactly the file's settings."""
    text = decode(raw)
    column = _identifier_column(text)
    outcome = Outcome()
    wanted: set[str] = set()
    for line, row in _rows(text, {column}):
        outcome.rows_total += 1
        try:
            identifier = parse_identifier(row[column])
        except BadRow as exc:
            outcome.problems.append((line, str(exc)))
            continue
        if identifier in wanted:
            outcome.problems.append((line, f"{identifier} appears more than once"))
            continue
        wanted.add(identifier)
    entries = EligibilityListEntry.objects.filter(funding_round=funding_round, kind=kind)
    stored = set(entries.values_list("identifier", flat=True))
    EligibilityListEntry.objects.bulk_create(
        [
            EligibilityListEntry(funding_round=funding_round, kind=kind, identifier=i)
            for i in sorted(wanted - stored)
        ],
        batch_size=BATCH_SIZE,
    )
    outcome.removed, _ = entries.filter(identifier__in=stored - wanted).delete()
    outcome.created = len(wanted - stored)
    outcome.unchanged = len(wanted & stored)
    _progress(run, outcome, outcome.rows_total)
    return outcome


# --- Running an ImportRun (the Celery task calls this) -------------------------------------------


def import_run_execute(run: ImportRun) -> ImportRun:
    """Run a queued import. Safe to call twice: a finished run is left as it is."""
    claimed = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.QUEUED).update(
        status=ImportRun.Status.RUNNING
    )
    if not claimed:
        return ImportRun.objects.get(pk=run.pk)
    run.refresh_from_db()
    with run.file.open("rb") as handle:
        raw = handle.read()
    try:
        if run.kind == ImportRun.Kind.GIAS:
            outcome = import_gias(raw, run=run)
        else:
            outcome = import_eligibility_list(
                raw, funding_round=run.funding_round, kind=run.list_kind, run=run
            )
    except MalformedFile as exc:
        run.status, run.message = ImportRun.Status.FAILED, str(exc)
    else:
        run.status = ImportRun.Status.DONE_WITH_ERRORS if outcome.problems else ImportRun.Status.DONE
        run.rows_total, run.rows_done = outcome.rows_total, outcome.rows_total
        run.created, run.updated, run.unchanged, run.removed = (
            outcome.created,
            outcome.updated,
            outcome.unchanged,
            outcome.removed,
        )
        run.problems = [list(problem) for problem in outcome.problems]
        run.message = summary(outcome)
    run.finished_at = timezone.now()
    run.save()
    return run


def summary(outcome: Outcome) -> str:
    text = (
        f"{outcome.rows_total} row{pluralize(outcome.rows_total)} read: {outcome.created} added, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged"
    )
    if outcome.removed:
        text += f", {outcome.removed} removed"
    if outcome.problems:
        text += f"; {len(outcome.problems)} row{'s' if len(outcome.problems) != 1 else ''} skipped"
    return text + "."
