"""The GIAS import: establishments ("edubasealldata") staged and upserted by URN, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter

from django.db import connection, transaction
from django.template.defaultfilters import pluralize

from common.csv_files import CsvFile, MalformedFile, Source, check_file, source_of

from ..dfe_lists import whole_number
from ..models import ImportRun, Institution
from .outcome import BadRow, Data, Outcome, _Progress
from .values import _date, _number

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


def parse_gias_row(row: dict[str, str]) -> dict:
    name = row["EstablishmentName"].strip()
    if not name:
        raise BadRow("EstablishmentName is empty")
    la_code = whole_number(row["LA (code)"])
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
