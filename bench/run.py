"""`make bench`: every measurement of the portal at a large provider's scale, in one table.

1. The dataset (bench/dataset.py) is generated once in the bench database and reused.
2. Pages (bench/pages.py): wrk against gunicorn with production settings, each page with its
   query count, against a trivial signed-in view on the same gunicorn.
3. Imports and the engagement tally: the ``measure_*`` functions of bench/imports.py and
   bench/engagement.py (or their ``MEASUREMENTS`` list), each against the fastest SQL.

It prints one table (measurement, measured, baseline, ratio, queries, goal, met) and writes it,
with the date, the machine and its load, between the bench markers of docs/benchmarks.md. A
measurement that fails is a row "not measured" with its error; the others still run.

Usage: python bench/run.py [--only pages,imports,engagement] [--no-docs] [--regenerate]
Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/npq_bench),
BENCH_REDIS_URL (gunicorn's cache, default redis://127.0.0.1:6379/14), BENCH_PAGE_SECONDS (10).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import format_table, not_measured, replace_section  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
PARTS = ("pages", "imports", "engagement")
MEASUREMENT_TIMEOUT_S = int(os.environ.get("BENCH_MEASUREMENT_TIMEOUT", "1200"))
ROW_KEYS = ("what", "measured_s", "baseline", "baseline_s", "ratio", "goal", "met", "notes")


def setup() -> None:
    """Django on the bench database, settings as production's where they matter to timing."""
    os.environ.setdefault("DEBUG", "false")  # no query log kept in memory during imports
    from bench.pages import SECRET_KEY, STATIC_ROOT

    os.environ["SECRET_KEY"] = SECRET_KEY  # the sessions made here are read by gunicorn
    os.environ.setdefault("STATIC_ROOT", STATIC_ROOT)  # the test client's static files too
    from bench.dataset import setup_django

    setup_django()


def machine() -> dict[str, str]:
    from django.db import connection

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{memory_kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown memory"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    return {
        "host": platform.node(),
        "cpus": str(os.cpu_count()),
        "model": model or platform.processor() or "unknown CPU",
        "memory": memory,
        "postgres": postgres,
        "python": platform.python_version(),
    }


def _complete(row: object, source: str) -> dict[str, object]:
    """A row as the table needs it; anything else is reported as not measured."""
    if not isinstance(row, dict) or not row.get("what"):
        return not_measured(source, f"returned {row!r}, not a row")
    return {key: row.get(key) for key in ROW_KEYS} | {k: v for k, v in row.items() if k not in ROW_KEYS}


def call_in_process(module_name: str, function: Callable[[], object]) -> object:
    return function()


def call_in_subprocess(module_name: str, function: Callable[[], object]) -> object:
    """Run one measurement function in a fresh process, stopped after MEASUREMENT_TIMEOUT_S: a
    slow import (the LMS import took 95 minutes for 100,000 rows) must not hold the table up
    for ever, and each measurement's memory is its own. Its rows come back as JSON."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argument list
            [sys.executable, __file__, "--measure", f"{module_name}:{function.__name__}"],
            stdout=subprocess.PIPE,
            text=True,
            timeout=MEASUREMENT_TIMEOUT_S,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"stopped after {MEASUREMENT_TIMEOUT_S / 60:.0f} minutes") from None
    if result.returncode != 0:
        raise RuntimeError(
            f"its process failed (exit status {result.returncode}; its error is printed above)"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def module_rows(
    module_name: str, log: Callable[[str], None], call: Callable[[str, Callable], object] = call_in_process
) -> list[dict[str, object]]:
    """The rows of one measurement module's functions; failures become "not measured" rows."""
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        return [not_measured(module_name, f"cannot import: {type(error).__name__}: {error}")]
    functions = getattr(module, "MEASUREMENTS", None) or [
        value
        for name, value in sorted(vars(module).items())
        if name.startswith("measure_") and callable(value) and getattr(value, "__module__", "") == module_name
    ]
    if not functions:
        return [not_measured(module_name, f"{module_name} has no measure_* functions yet")]
    rows: list[dict[str, object]] = []
    for function in functions:
        name = f"{module_name}.{function.__name__}"
        log(f"{name} ...")
        started = time.perf_counter()
        try:
            result = call(module_name, function)
        except Exception as error:
            traceback.print_exc()
            rows.append(not_measured(name, f"{type(error).__name__}: {error}"))
            continue
        returned = result if isinstance(result, list) else [result]
        rows += [_complete(row, name) for row in returned]
        log(f"  done in {time.perf_counter() - started:.0f} s")
    return rows


def document(
    rows: list[dict[str, object]], facts: dict, about: dict, loads: tuple, finished: datetime
) -> str:
    """The section of docs/benchmarks.md between the markers."""
    (start_load, end_load) = loads
    cpus = int(about["cpus"] or 1)
    busiest = max(start_load[0], end_load[0])
    shared = (
        f" The machine was shared: its load average reached {busiest:.1f} on {cpus} cores, so other work ran "
        "at the same time and absolute times are inflated; the ratios, measured in the same conditions, "
        "compare better."
        if busiest > cpus * 0.75
        else ""
    )
    dataset = (
        f"{facts['participants']:,} participants, {facts['hubs']} hubs, {facts['courses']} courses, "
        f"{facts['groups']:,} groups, {facts['activities']:,} activities, {facts['attendance_marks']:,} "
        f"attendance marks, {facts['applications']:,} applications, {facts['gias_schools']:,} GIAS schools"
    )
    return "\n".join(
        [
            "## Latest `make bench`",
            "",
            f"Run on {finished:%Y-%m-%d %H:%M} UTC on {about['host']}: {about['cpus']} cores ({about['model']}), "
            f"{about['memory']}, PostgreSQL {about['postgres']}, Python {about['python']}. Load average "
            f"(1, 5, 15 min) {', '.join(f'{x:.2f}' for x in start_load)} at the start and "
            f"{', '.join(f'{x:.2f}' for x in end_load)} at the end.{shared}",
            "",
            f"Dataset {facts['version']} (bench/dataset.py, generated {facts['generated_at']:%Y-%m-%d %H:%M} "
            f"in {facts['generated_in_s']:.0f} s): {dataset}.",
            "",
            format_table(rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(PARTS), help="which parts, comma-separated: " + ", ".join(PARTS)
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table without writing docs/benchmarks.md"
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="generate the dataset again even if present"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # module:function, in a subprocess
    args = parser.parse_args()
    if args.measure:
        setup()
        module_name, name = args.measure.split(":")
        rows = getattr(importlib.import_module(module_name), name)()
        print(json.dumps(rows, default=str))
        return
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}: choose from {', '.join(PARTS)}")

    def log(text: str) -> None:
        print(text, flush=True)

    setup()
    from bench import dataset

    start_load = os.getloadavg()
    if args.regenerate:
        dataset.generate(log=log)
    facts = dataset.ensure_dataset(log=log)
    about = machine()
    log(
        f"Dataset {facts['version']}: {facts['participants']:,} participants, {facts['attendance_marks']:,} marks"
    )

    rows: list[dict[str, object]] = []
    if "pages" in parts:
        log("Pages: wrk against gunicorn on 127.0.0.1 ...")
        from bench.pages import measure_pages

        try:
            rows += measure_pages(log=log)
        except Exception as error:
            traceback.print_exc()
            rows.append(not_measured("pages", f"{type(error).__name__}: {error}"))
    for part in ("imports", "engagement"):
        if part in parts:
            rows += module_rows(f"bench.{part}", log, call=call_in_subprocess)

    finished = datetime.now(UTC)
    section = document(rows, facts, about, (start_load, os.getloadavg()), finished)
    print()
    print(section)
    if not args.no_docs:
        DOCS.write_text(replace_section(DOCS.read_text() if DOCS.exists() else "# Benchmarks\n", section))
        print(f"\nWritten to {DOCS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
