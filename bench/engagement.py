"""Benchmark of the engagement tally on PostgreSQL (`make bench`, or on its own).

``measure_tally()`` (called by bench/run.py on the bench dataset, bench/dataset.py) times
1. the portal's nightly job (``engagement.tasks.tally_all_courses``) in a fresh worker-like
   process, with that process's peak memory,
2. the fastest correct SQL found for the same numbers: one marks-driven statement (the weights
   each group could earn summed once per group, then one pass over the attendance marks), with
   the same ``work_mem`` as the portal's,
alternating, the better of three runs each; checks that both stored the same numbers; and looks
at both plans (EXPLAIN ANALYZE, BUFFERS) for anything written to disk (temp buffers).

``--explain`` prints those plans and the plan of the statement the portal used before, which
joined participants to activities by course and filtered by group afterwards.

``--scales 10000,100000`` is the older scale study: it DROPS and regenerates the database
(``generate`` of bench/engagement_scales.py, x 40 activities per participant) at each scale, and
prints the growth. The statements compared are in bench/engagement_sql.py.

Usage: python bench/engagement.py [--explain] [--scales 10000,100000 [--courses 50]]
Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/npq_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import recreate_database, setup_django  # noqa: E402
from bench.engagement_scales import generate  # noqa: E402
from bench.engagement_sql import CHECKSUM, JOINED_BY_COURSE, MARKS_DRIVEN  # noqa: E402

TODAY = date(2026, 3, 1)


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM programmes_participant), (SELECT count(*) FROM programmes_attendance),"
            " (SELECT count(*) FROM programmes_course)"
        )
        participants, marks, courses = cursor.fetchone()
    return {"participants": participants, "attendance_rows": marks, "courses": courses}


def clear_tallies() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE programmes_engagementtally")


def checksum() -> tuple:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(CHECKSUM)
        return tuple(str(v) for v in cursor.fetchone())


def run_app_tally() -> dict:
    """In this (fresh) process: tally every course, as the nightly job's worker would."""
    from engagement.tasks import tally_all_courses

    started = time.perf_counter()
    stored = tally_all_courses.run(TODAY.isoformat())  # the nightly job, as its worker runs it
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "stored": stored}


def _params() -> dict:
    from engagement.tally import TASK_RECORD_DAYS, start_of_next_day

    return {
        "today": TODAY,
        "tomorrow": start_of_next_day(TODAY),
        "grace": TODAY - timedelta(days=TASK_RECORD_DAYS),
    }


def run_hand_written() -> float:
    """The fastest SQL found, with the memory the portal's statement is given, timed."""
    from django.db import connection, transaction

    from engagement.tally import TALLY_WORK_MEM

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [TALLY_WORK_MEM])
        cursor.execute(MARKS_DRIVEN, _params())
    return time.perf_counter() - started


def _plan(sql: str, params, work_mem: str | None) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if work_mem:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [line for (line,) in cursor.fetchall()]
        transaction.set_rollback(True)
    return plan


def portal_plan() -> list[str]:
    """The plan of the portal's own tally statement, as tally_courses runs it (rolled back)."""
    from django.db import connection, transaction

    from engagement.tally import tally_courses
    from programmes.models import Course

    plan: list[str] = []

    def explain(execute, sql, params, many, context):
        if sql.startswith("INSERT INTO programmes_engagementtally"):
            context["cursor"].cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan.extend(line for (line,) in context["cursor"].cursor.fetchall())
            return None
        return execute(sql, params, many, context)

    with transaction.atomic():
        with connection.execute_wrapper(explain):
            tally_courses(course_ids=list(Course.objects.values_list("pk", flat=True)), today=TODAY)
        transaction.set_rollback(True)
    return plan


def spills(plan: list[str]) -> list[str]:
    """The lines of a plan that show work written to disk (temporary buffers, disk sorts)."""
    return [
        line.strip()
        for line in plan
        if "temp written=" in line or "Disk:" in line or "Disk Usage:" in line or "external" in line
    ]


def _worker_tally() -> dict:
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, str(Path(__file__).resolve()), "--tally-only"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(runs: int = 3) -> dict:
    """The portal's nightly job (fresh process) and the fastest SQL, alternating, the better of
    ``runs`` each; their stored numbers must agree. The portal's tally is left in place."""
    app_runs, hand_runs = [], []
    for _ in range(runs):
        clear_tallies()
        hand_runs.append(run_hand_written())
        hand_sum = checksum()
        clear_tallies()
        app_runs.append(_worker_tally())
        app_sum = checksum()
        if app_sum != hand_sum:
            raise RuntimeError(f"The tally and the fastest SQL disagree: {app_sum} != {hand_sum}")
    return {"app": app_runs, "hand": hand_runs, "checksum": app_sum}


def measure_tally() -> list[dict]:
    """The nightly tally on the bench dataset against the fastest marks-driven SQL."""
    from engagement.tally import TALLY_WORK_MEM

    facts = counts()
    result = compare()
    app = min(result["app"], key=lambda r: r["seconds"])
    hand = min(result["hand"])
    ratio = app["seconds"] / hand
    app_times = ", ".join(f"{r['seconds']:.2f}" for r in result["app"])
    hand_times = ", ".join(f"{seconds:.2f}" for seconds in result["hand"])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    portal_spills = spills(portal_plan())
    hand_spills = spills(_plan(MARKS_DRIVEN, _params(), TALLY_WORK_MEM))
    return [
        {
            "what": f"Nightly tally, {facts['participants']:,} participants x 40 ({facts['attendance_rows']:,} marks)",
            "measured_s": round(app["seconds"], 3),
            "baseline": "marks-driven SQL (weights per group, one pass over the marks)",
            "baseline_s": round(hand, 3),
            "ratio": round(ratio, 2),
            "goal": "ratio <= 1.3, no spill to disk",
            "met": ratio <= 1.3 and not portal_spills,
            "notes": (
                f"same stored numbers; worker peak {max(r['peak_mb'] for r in result['app']):.0f} MB; "
                f"written to disk: portal {'; '.join(portal_spills) or 'nothing'}, "
                f"SQL {'; '.join(hand_spills) or 'nothing'}; runs {app_times} s vs {hand_times} s; load {load}"
            ),
        }
    ]


MEASUREMENTS = [measure_tally]


def explain() -> None:
    """Print the plans: the statement the portal used before, the portal's and the fastest SQL."""
    from engagement.tally import TALLY_WORK_MEM

    for title, plan in (
        (
            "Before: participants joined to activities by course (work_mem as configured)",
            _plan(JOINED_BY_COURSE, _params(), None),
        ),
        ("Portal: engagement.tally.tally_courses", portal_plan()),
        (
            "Fastest SQL found (bench/engagement_sql.py MARKS_DRIVEN)",
            _plan(MARKS_DRIVEN, _params(), TALLY_WORK_MEM),
        ),
    ):
        print(f"== {title}")
        print("\n".join(plan))
        print(f"-- written to disk: {spills(plan) or 'nothing'}\n", flush=True)


def bench_scale(participants: int, courses: int) -> dict:
    recreate_database()
    started = time.perf_counter()
    generate(participants, courses, today=TODAY)
    generated_in = time.perf_counter() - started
    facts = counts()
    result = compare(runs=2)
    app = min(result["app"], key=lambda r: r["seconds"])
    hand = min(result["hand"])
    return {
        **facts,
        "generated_in_s": round(generated_in, 1),
        "app_s": round(app["seconds"], 3),
        "sql_s": round(hand, 3),
        "ratio": round(app["seconds"] / hand, 2),
        "peak_worker_mb": round(max(r["peak_mb"] for r in result["app"]), 1),
        "app_us_per_row": round(app["seconds"] * 1e6 / facts["attendance_rows"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", help="DROP the database and generate each scale (e.g. 10000,100000)")
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument(
        "--explain", action="store_true", help="print the plans, with what they write to disk"
    )
    parser.add_argument("--tally-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.tally_only:
        print(json.dumps(run_app_tally()))
        return
    if args.explain:
        explain()
        return
    if not args.scales:
        if not counts()["attendance_rows"]:
            raise SystemExit(
                "The database has no attendance marks: run bench/run.py (its dataset) or --scales."
            )
        for row in measure_tally():
            print(json.dumps(row))
        return
    results = [bench_scale(int(scale), args.courses) for scale in args.scales.split(",")]
    print(
        f"{'participants':>12} {'marks':>10} {'tally s':>9} {'SQL s':>8} {'ratio':>6} {'worker MB':>10} {'µs/mark':>8}"
    )
    for r in results:
        print(
            f"{r['participants']:>12,} {r['attendance_rows']:>10,} {r['app_s']:>9.3f} {r['sql_s']:>8.3f} "
            f"{r['ratio']:>6.2f} {r['peak_worker_mb']:>10.1f} {r['app_us_per_row']:>8.2f}"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["app_s"] / first["app_s"]) / (last["attendance_rows"] / first["attendance_rows"])
        print(
            f"time grows {growth:.2f}x as fast as the rows from the smallest to the largest scale (1.00 = linear)"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
