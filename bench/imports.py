"""Benchmarks of the imports against the fastest SQL doing the same (`make bench`, or on its own).

- **LMS completions**: a 100,000-row export (half emails, half TRNs; half of them marks that do
  not exist yet, half marks already recorded, some absent or excused and so completed now) read
  by ``engagement.lms_import.import_lms_completions``, against COPY into a temporary table and
  one INSERT ... ON CONFLICT (with the history rows and the activities' ``imported_on``).
- **GIAS**: a 50,000-row establishments file imported by ``funding.imports.import_gias`` into an
  empty table (fresh) and over its own rows with 10% changed, in a fresh process each (its peak
  memory is the process's ``ru_maxrss``), against COPY into a temporary table and one
  INSERT ... ON CONFLICT ... WHERE ... IS DISTINCT FROM.

Both sides run in a transaction that is rolled back: the bench dataset is left as it was. Each
side runs twice (alternating) and the better time is kept.

Usage: python bench/imports.py [--only lms,gias] [--explain]
Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/npq_bench), a database
with the bench dataset (bench/dataset.py) or another with participants and their marks.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LMS_ROWS = 100_000
LMS_GOAL_S = 30.0
GIAS_ROWS = 50_000
GIAS_GOAL_RATIO = 2.0
GIAS_GOAL_MB = 150.0
RUNS = 3  # the better of three runs each, alternating: the machine is shared


class Rollback(Exception):
    """Raised to undo a measured run (the dataset is shared by every measurement)."""


def setup_django() -> None:
    os.environ.setdefault("DEBUG", "false")  # no query log kept in memory
    from bench.dataset import setup_django as setup

    setup()


def _rolled_back(work, check=None) -> tuple[float, object, object]:
    """Time ``work()`` inside a transaction, look at its effect with ``check()``, then undo it."""
    from django.db import transaction

    result = checked = None
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - started
            checked = check() if check else None
            raise Rollback
    except Rollback:
        pass
    return seconds, result, checked


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --- LMS completions ----------------------------------------------------------------------------

LMS_PAIRS = """
(SELECT p.id, a.code, u.email, p.trn FROM programmes_participant p
   JOIN accounts_user u ON u.id = p.user_id
   JOIN programmes_activity a ON a.group_id = p.group_id
  WHERE p.status IN ('active', 'deferred')
    AND NOT EXISTS (SELECT 1 FROM programmes_attendance m WHERE m.participant_id = p.id AND m.activity_id = a.id)
  ORDER BY p.id, a.id LIMIT %(new)s)
UNION ALL
(SELECT p.id, a.code, u.email, p.trn FROM programmes_attendance m
   JOIN programmes_participant p ON p.id = m.participant_id
   JOIN accounts_user u ON u.id = p.user_id
   JOIN programmes_activity a ON a.id = m.activity_id
  WHERE p.status IN ('active', 'deferred') AND a.group_id IS NULL AND m.id %% 29 = 0
  ORDER BY m.id LIMIT %(existing)s)
"""


def lms_file(rows: int = LMS_ROWS) -> bytes:
    """An LMS export of ``rows`` rows from the database's participants (not timed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LMS_PAIRS, {"new": rows // 2, "existing": rows - rows // 2})
        pairs = cursor.fetchall()
    if len(pairs) < rows:
        raise RuntimeError(f"the database has only {len(pairs)} participant-activity pairs for an LMS file")
    shuffle = random.Random(13)  # a reproducible order
    shuffle.shuffle(pairs)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["participant", "activity_code", "completed_at"])
    for n, (_, code, email, trn) in enumerate(pairs):
        who = trn if n % 2 and trn else email.upper() if n % 4 == 0 else email
        writer.writerow([who, code, f"2026-02-{1 + n % 28:02d} {8 + n % 10:02d}:{n % 60:02d}"])
    return out.getvalue().encode()


LMS_BASELINE = """
WITH named AS (
  SELECT r.line, p.id AS participant_id, p.course_id, p.group_id, r.activity_code, r.completed_at
    FROM lms_rows r
    JOIN accounts_user u ON lower(u.email) = lower(r.participant)
    JOIN programmes_participant p ON p.user_id = u.id AND p.status IN ('active', 'deferred')
  UNION ALL
  SELECT r.line, p.id, p.course_id, p.group_id, r.activity_code, r.completed_at
    FROM lms_rows r
    JOIN programmes_participant p ON p.trn = replace(r.participant, ' ', '')
     AND p.status IN ('active', 'deferred')
), matched AS (
  SELECT DISTINCT ON (n.participant_id, a.id) n.participant_id, a.id AS activity_id,
         n.completed_at::timestamp AT TIME ZONE 'Europe/London' AS completed_at
    FROM named n
    JOIN programmes_activity a ON a.course_id = n.course_id AND a.code = n.activity_code
     AND (a.group_id IS NULL OR a.group_id = n.group_id)
   ORDER BY n.participant_id, a.id, n.line
), written AS (
  INSERT INTO programmes_attendance (participant_id, activity_id, status, recorded_by_id, recorded_at, completed_at)
  SELECT participant_id, activity_id, 'completed', NULL, now(), completed_at FROM matched
  ON CONFLICT (participant_id, activity_id) DO UPDATE SET status = EXCLUDED.status,
     recorded_by_id = EXCLUDED.recorded_by_id, recorded_at = EXCLUDED.recorded_at,
     completed_at = EXCLUDED.completed_at
   WHERE programmes_attendance.status NOT IN ('attended', 'completed')
  RETURNING *, xmax = 0 AS created
), history AS (
  INSERT INTO programmes_historicalattendance (id, participant_id, activity_id, status, recorded_by_id,
                                               recorded_at, completed_at, history_date, history_type)
  SELECT id, participant_id, activity_id, status, recorded_by_id, recorded_at, completed_at, now(),
         CASE WHEN created THEN '+' ELSE '~' END FROM written
)
UPDATE programmes_activity SET imported_on = current_date
 WHERE id IN (SELECT activity_id FROM matched)
"""


def lms_baseline(raw: bytes) -> int:
    """The fastest SQL found doing the import's work (without its line-by-line problems): COPY
    into a temporary table, then one statement resolving, upserting and keeping history."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE lms_rows (line serial, participant text, activity_code text,"
            " completed_at text) ON COMMIT DROP"
        )
        with cursor.copy(
            "COPY lms_rows (participant, activity_code, completed_at) FROM STDIN (FORMAT csv, HEADER)"
        ) as copy:
            copy.write(raw)
        cursor.execute("ANALYZE lms_rows")
        cursor.execute(LMS_BASELINE)
        return cursor.rowcount


def lms_portal(raw: bytes):
    from engagement.lms_import import import_lms_completions
    from engagement.models import Activity
    from programmes.models import Participant

    return import_lms_completions(
        raw, participants=Participant.objects.all(), activities=Activity.objects.all()
    )


def lms_effect() -> tuple:
    """What an import leaves: marks by status, their history, activities stamped today."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM programmes_attendance),"
            " (SELECT count(*) FROM programmes_attendance WHERE status = 'completed'),"
            " (SELECT sum(extract(epoch FROM completed_at)) FROM programmes_attendance WHERE recorded_at >= now()),"
            " (SELECT count(*) FROM programmes_historicalattendance WHERE history_date >= now()),"
            " (SELECT count(*) FROM programmes_activity WHERE imported_on = current_date)"
        )
        return tuple(str(value) for value in cursor.fetchone())


def measure_lms_import() -> list[dict]:
    from django.db import connection

    raw = lms_file()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM programmes_participant")
        participants = cursor.fetchone()[0]
    portal, baseline, outcome = [], [], None
    for _ in range(RUNS):
        seconds, outcome, portal_effect = _rolled_back(lambda: lms_portal(raw), lms_effect)
        portal.append(seconds)
        seconds, _, baseline_effect = _rolled_back(lambda: lms_baseline(raw), lms_effect)
        baseline.append(seconds)
        if portal_effect != baseline_effect:
            raise RuntimeError(
                f"The LMS import and the SQL leave different marks: {portal_effect} != {baseline_effect}"
            )
    measured, fastest = min(portal), min(baseline)
    return [
        {
            "what": f"LMS completion import, {LMS_ROWS:,} rows at {participants:,} participants",
            "measured_s": round(measured, 3),
            "baseline": "COPY + one INSERT ... ON CONFLICT (with history)",
            "baseline_s": round(fastest, 3),
            "ratio": round(measured / fastest, 2),
            "goal": f"< {LMS_GOAL_S:.0f} s",
            "met": measured < LMS_GOAL_S,
            "notes": (
                f"{outcome.loaded:,} marked completed, {outcome.unchanged:,} already done, "
                f"{len(outcome.problems):,} problems; 7 statements whatever the size; "
                f"runs {', '.join(f'{s:.2f}' for s in portal)} s; load {_load()}"
            ),
        }
    ]


# --- GIAS -------------------------------------------------------------------------------------------

GIAS_HEADER = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (code)",
    "EstablishmentStatus (name)",
    "PhaseOfEducation (code)",
    "PhaseOfEducation (name)",
    "OpenDate",
    "CloseDate",
    "NumberOfPupils",
    "UKPRN",
    "Street",
    "Locality",
    "Town",
    "County (name)",
    "Postcode",
    "SchoolWebsite",
    "TelephoneNum",
    "HeadFirstName",
    "HeadLastName",
]


def gias_file(path: Path, rows: int = GIAS_ROWS, *, changed_every: int = 0) -> None:
    """A GIAS file of ``rows`` establishments (URNs 100001...: the bench dataset's schools) with
    the columns the import reads among others, as GIAS publishes them; with ``changed_every``
    every n-th row differs from the first version (its name and pupils)."""
    with path.open("w", newline="", encoding="cp1252") as handle:
        writer = csv.writer(handle)
        writer.writerow(GIAS_HEADER)
        for n in range(1, rows + 1):
            changed = changed_every and n % changed_every == 0
            writer.writerow(
                [
                    100000 + n,
                    201 + n % 150,
                    f"Bench authority {n % 150}",
                    1000 + n % 9000,
                    f"Bench school {n}" + (" (renamed)" if changed else ""),
                    (1, 28, 34, 2)[n % 4],
                    (
                        "Community school",
                        "Academy sponsor led",
                        "Academy converter",
                        "Voluntary aided school",
                    )[n % 4],
                    1,
                    "Open",
                    2 if n % 3 else 4,
                    "Secondary" if n % 3 == 0 else "Primary",
                    f"{1 + n % 28:02d}-09-{2000 + n % 20}",
                    "",
                    100 + n % 1400 + (7 if changed else 0),
                    10000000 + n if n % 5 == 0 else "",
                    f"{n} High Street",
                    "",
                    f"Town {n % 500}",
                    "Kent",
                    f"BN{n % 90 + 1} {n % 9 + 1}{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}",
                    f"www.school{n}.example",
                    f"01{n:09d}",
                    "Alex",
                    "Head",
                ]
            )


GIAS_BASELINE = """
INSERT INTO funding_institution (urn, ukprn, name, establishment_type_code, establishment_type_name, status,
                                 phase, number_of_pupils, la_code, la_name, postcode, open_date, close_date)
SELECT DISTINCT ON (urn::int) urn::int, NULLIF(ukprn, '')::int, left(trim(name), 255), NULLIF(type_code, '')::int,
       left(trim(type_name), 120), left(trim(status), 60), left(trim(phase), 60), NULLIF(pupils, '')::int,
       lpad(la_code, 3, '0'), left(trim(la_name), 120), left(upper(trim(postcode)), 10),
       to_date(NULLIF(open_date, ''), 'DD-MM-YYYY'), to_date(NULLIF(close_date, ''), 'DD-MM-YYYY')
  FROM gias_rows ORDER BY urn::int
ON CONFLICT (urn) DO UPDATE SET ukprn = EXCLUDED.ukprn, name = EXCLUDED.name,
  establishment_type_code = EXCLUDED.establishment_type_code,
  establishment_type_name = EXCLUDED.establishment_type_name, status = EXCLUDED.status,
  phase = EXCLUDED.phase, number_of_pupils = EXCLUDED.number_of_pupils, la_code = EXCLUDED.la_code,
  la_name = EXCLUDED.la_name, postcode = EXCLUDED.postcode, open_date = EXCLUDED.open_date,
  close_date = EXCLUDED.close_date
WHERE (funding_institution.ukprn, funding_institution.name, funding_institution.establishment_type_code,
       funding_institution.establishment_type_name, funding_institution.status, funding_institution.phase,
       funding_institution.number_of_pupils, funding_institution.la_code, funding_institution.la_name,
       funding_institution.postcode, funding_institution.open_date, funding_institution.close_date)
  IS DISTINCT FROM
      (EXCLUDED.ukprn, EXCLUDED.name, EXCLUDED.establishment_type_code, EXCLUDED.establishment_type_name,
       EXCLUDED.status, EXCLUDED.phase, EXCLUDED.number_of_pupils, EXCLUDED.la_code, EXCLUDED.la_name,
       EXCLUDED.postcode, EXCLUDED.open_date, EXCLUDED.close_date)
"""
GIAS_TEXT_COLUMNS = {  # temporary table column -> GIAS column; the others are read and ignored
    "urn": "URN",
    "la_code": "LA (code)",
    "la_name": "LA (name)",
    "name": "EstablishmentName",
    "type_code": "TypeOfEstablishment (code)",
    "type_name": "TypeOfEstablishment (name)",
    "status": "EstablishmentStatus (name)",
    "phase": "PhaseOfEducation (name)",
    "open_date": "OpenDate",
    "close_date": "CloseDate",
    "pupils": "NumberOfPupils",
    "ukprn": "UKPRN",
    "postcode": "Postcode",
}


def gias_baseline(path: Path) -> int:
    """COPY the file into a temporary table of text columns, then one upsert that rewrites only
    the rows whose values differ."""
    from django.db import connection

    names = {gias: table for table, gias in GIAS_TEXT_COLUMNS.items()}
    columns = [names.get(gias, f"ignored_{n}") for n, gias in enumerate(GIAS_HEADER)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE gias_rows ({', '.join(f'{c} text' for c in columns)}) ON COMMIT DROP"
        )
        copying = "COPY gias_rows FROM STDIN (FORMAT csv, HEADER, ENCODING 'WIN1252')"
        with cursor.copy(copying) as copy, path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        cursor.execute(GIAS_BASELINE)
        return cursor.rowcount


def _gias_prepare(fresh: bool, first_version: Path | None) -> None:
    """In the measured transaction, before the clock starts: an empty table (fresh; the
    references to it are checked at commit, and the transaction is rolled back), or the table
    holding exactly the first version of the file."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("DELETE FROM funding_institution")
        if not fresh and first_version is not None:
            gias_baseline(first_version)
            cursor.execute("DROP TABLE gias_rows")


def gias_worker(side: str, path: str, fresh: bool, first_version: str) -> dict:
    """In a fresh process: one GIAS import (``portal`` or ``sql``), timed and rolled back."""
    import resource

    from django.db import connection, transaction

    from funding.imports import import_gias  # loaded before the clock starts, as in a worker

    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict = {}
    try:
        with transaction.atomic():
            _gias_prepare(fresh, Path(first_version) if first_version else None)
            started = time.perf_counter()
            if side == "portal":
                outcome = import_gias(Path(path))
                result["outcome"] = [outcome.created, outcome.updated, outcome.unchanged, outcome.skipped]
            else:
                result["outcome"] = gias_baseline(Path(path))
            result["seconds"] = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*), count(*) FILTER (WHERE name LIKE '%%(renamed)') FROM funding_institution"
                )
                result["rows"] = list(cursor.fetchone())
            raise Rollback
    except Rollback:
        pass
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["start_mb"] = before_mb
    return result


def _gias_run(side: str, path: Path, *, fresh: bool, first_version: Path | None) -> dict:
    output = subprocess.run(  # noqa: S603 - a fixed argument list
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--gias-worker",
            json.dumps([side, str(path), fresh, str(first_version or "")]),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure_gias_import() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gias-") as folder:
        first, changed = Path(folder) / "gias.csv", Path(folder) / "gias-changed.csv"
        gias_file(first)
        gias_file(changed, changed_every=10)
        size_mb = first.stat().st_size / 1e6
        for label, path, fresh in (("fresh", first, True), ("10% changed", changed, False)):
            portal, sql = [], []
            for _ in range(RUNS):
                portal.append(_gias_run("portal", path, fresh=fresh, first_version=first))
                sql.append(_gias_run("sql", path, fresh=fresh, first_version=first))
            if {tuple(r["rows"]) for r in portal} != {tuple(r["rows"]) for r in sql}:
                raise RuntimeError(
                    f"GIAS {label}: the import and the SQL leave different tables: {portal} {sql}"
                )
            best, fastest = min(portal, key=lambda r: r["seconds"]), min(sql, key=lambda r: r["seconds"])
            peak = max(r["peak_mb"] for r in portal)
            ratio = best["seconds"] / fastest["seconds"]
            created, updated, unchanged, _ = best["outcome"]
            rows.append(
                {
                    "what": f"GIAS import, {GIAS_ROWS:,} rows, {label} ({size_mb:.0f} MB file)",
                    "measured_s": round(best["seconds"], 3),
                    "baseline": "COPY + one INSERT ... ON CONFLICT ... IS DISTINCT FROM",
                    "baseline_s": round(fastest["seconds"], 3),
                    "ratio": round(ratio, 2),
                    "goal": f"ratio <= {GIAS_GOAL_RATIO:.0f}, < {GIAS_GOAL_MB:.0f} MB",
                    "met": ratio <= GIAS_GOAL_RATIO and peak < GIAS_GOAL_MB,
                    "notes": (
                        f"peak {peak:.0f} MB (process after Django set up: {best['start_mb']:.0f} MB); "
                        f"{created:,} added, {updated:,} updated, {unchanged:,} unchanged; load {_load()}"
                    ),
                }
            )
    return rows


MEASUREMENTS = [measure_lms_import, measure_gias_import]


# --- EXPLAIN --------------------------------------------------------------------------------------


def explain_lms() -> None:
    """Print EXPLAIN (ANALYZE, BUFFERS) of every statement the LMS import makes on a 100,000-row
    file (each re-run inside the rolled-back import's transaction)."""
    from django.db import connection

    raw = lms_file()

    def explain_first(execute, sql, params, many, context):
        if not sql.startswith(("SAVEPOINT", "RELEASE")):
            cursor = context["cursor"].cursor  # the driver's own: not wrapped again
            cursor.execute("SAVEPOINT explain")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(sql[:200] + ("..." if len(sql) > 200 else ""))
            print("\n".join("    " + line for (line,) in cursor.fetchall()))
            print(flush=True)
            cursor.execute("ROLLBACK TO SAVEPOINT explain")
        return execute(sql, params, many, context)

    def work():
        with connection.execute_wrapper(explain_first):
            lms_portal(raw)

    _rolled_back(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="lms,gias")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the LMS import's statements")
    parser.add_argument("--gias-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.gias_worker:
        print(json.dumps(gias_worker(*json.loads(args.gias_worker))))
        return
    if args.explain:
        explain_lms()
        return
    parts = {"lms": measure_lms_import, "gias": measure_gias_import}
    for name in args.only.split(","):
        for row in parts[name.strip()]():
            print(json.dumps(row))


if __name__ == "__main__":
    main()
