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
side runs twice (alternating) and the better time is kept. The LMS measurement is in
bench/imports_lms.py, the GIAS one in bench/imports_gias.py, what they share in bench/measuring.py;
this module runs them (``MEASUREMENTS``, read by bench/run.py) and is their command line.

Usage: python bench/imports.py [--only lms,gias] [--explain]
Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/npq_bench), a database
with the bench dataset (bench/dataset.py) or another with participants and their marks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.imports_gias import gias_worker, measure_gias_import  # noqa: E402
from bench.imports_lms import explain_lms, measure_lms_import  # noqa: E402

__all__ = ["MEASUREMENTS", "main", "measure_gias_import", "measure_lms_import", "setup_django"]


def setup_django() -> None:
    os.environ.setdefault("DEBUG", "false")  # no query log kept in memory
    from bench.dataset import setup_django as setup

    setup()


MEASUREMENTS = [measure_lms_import, measure_gias_import]


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
