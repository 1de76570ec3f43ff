"""The GIAS import measured (bench/imports.py): a 50,000-row establishments file imported by
``funding.imports.import_gias`` into an empty table (fresh) and over its own rows with 10% changed,
in a fresh process each (``python bench/imports.py --gias-worker``: its peak memory is the
process's ``ru_maxrss``), against COPY into a temporary table and one
INSERT ... ON CONFLICT ... WHERE ... IS DISTINCT FROM, both rolled back.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measuring import RUNS, Rollback, load_average

ROOT = Path(__file__).resolve().parent.parent
IMPORTS_SCRIPT = ROOT / "bench" / "imports.py"
GIAS_ROWS = 50_000
GIAS_GOAL_RATIO = 2.0
GIAS_GOAL_MB = 150.0

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
            str(IMPORTS_SCRIPT),  # its --gias-worker
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
                        f"{created:,} added, {updated:,} updated, {unchanged:,} unchanged; load {load_average()}"
                    ),
                }
            )
    return rows
