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
(``generate``, x 40 activities per participant) at each scale, and prints the growth.

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
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/npq_bench")
ACTIVITIES_PER_COURSE = 30  # course-wide; each group adds 10 of its own: 40 per participant
ACTIVITIES_PER_GROUP = 10
PARTICIPANTS_PER_GROUP = 20
TODAY = date(2026, 3, 1)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("DJANGO_ENV", "local")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npq_portal.settings")
    import django

    django.setup()


def recreate_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()  # our own connection to the previous bench database

    url = urlparse(BENCH_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


GENERATE = """
INSERT INTO programmes_leadprovider (name) VALUES ('Bench provider');
INSERT INTO programmes_hub (name, lead_provider_id, contact_email)
  SELECT 'Bench hub', id, '' FROM programmes_leadprovider;
INSERT INTO programmes_cohort (hub_id, identifier, start_date, registration_opens_on, registration_closes_on,
                               funding_model, funding_round_id)
  SELECT h.id, 'bench-' || c, %(start)s, %(start)s, %(start)s, 'full', r.id
  FROM programmes_hub h, funding_fundinground r, generate_series(1, %(courses)s) c WHERE r.code = '2025';
INSERT INTO programmes_course (cohort_id, programme_id, delivery_start, delivery_end, funded_places)
  SELECT c.id, p.id, %(start)s, %(end)s, 1000000 FROM programmes_cohort c, programmes_programme p WHERE p.code = 'NPQLT';
INSERT INTO programmes_group (course_id, name, mode, venue, capacity, enrolled)
  SELECT c.id, 'Group ' || g, 'online', '', 1000000, 0
  FROM programmes_course c, generate_series(1, %(groups_per_course)s) g;
INSERT INTO accounts_user (password, is_superuser, email, full_name, is_staff, is_active, date_joined)
  SELECT '!', false, 'p' || n || '@bench.test', 'Participant ' || n, false, true, now()
  FROM generate_series(1, %(participants)s) n;
WITH numbered_groups AS (
  SELECT id, course_id, row_number() OVER (ORDER BY id) - 1 AS k FROM programmes_group
), numbered_users AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM accounts_user
)
INSERT INTO programmes_participant (user_id, course_id, group_id, trn, status, status_reason, mentor_name,
                                    mentor_email, enrolled_at)
  SELECT u.id, g.course_id, g.id, lpad((1000000 + u.k)::text, 7, '0'), 'active', '', '', '', now()
  FROM numbered_users u JOIN numbered_groups g ON g.k = u.k / %(per_group)s;
INSERT INTO programmes_activity (course_id, group_id, code, kind, title, starts_at, ends_at, due_on, weight,
                                 required, counts_towards_engagement)
  SELECT c.id, NULL, 'unit-' || a, 'online_study_unit', 'Unit ' || a, NULL, NULL,
         %(start)s::date + (a * 7), CASE WHEN a %% 10 = 0 THEN 2 ELSE 1 END, true, true
  FROM programmes_course c, generate_series(1, %(course_activities)s) a;
INSERT INTO programmes_activity (course_id, group_id, code, kind, title, starts_at, ends_at, due_on, weight,
                                 required, counts_towards_engagement)
  SELECT g.course_id, g.id, 'g' || g.id || '-seminar-' || a, 'seminar', 'Seminar ' || a,
         (%(start)s::date + (a * 21))::timestamp AT TIME ZONE 'Europe/London' + interval '16 hours', NULL, NULL,
         1, true, true
  FROM programmes_group g, generate_series(1, %(group_activities)s) a;
-- Registers taken for every group seminar but the last one due (it awaits its record: no marks);
-- LMS imports of the units every fourth week (the others await their record until a week late).
INSERT INTO programmes_register (activity_id, group_id, taken_at)
  SELECT a.id, a.group_id, now() FROM programmes_activity a
  WHERE a.group_id IS NOT NULL AND a.starts_at < %(awaiting_from)s;
UPDATE programmes_activity SET imported_on = due_on + 2 WHERE group_id IS NULL AND id %% 4 = 0;
INSERT INTO programmes_attendance (participant_id, activity_id, status, recorded_at)
  SELECT p.id, a.id,
         CASE WHEN (p.id * 7919 + a.id * 104729) %% 100 < 80 THEN 'attended'
              WHEN (p.id * 7919 + a.id * 104729) %% 100 < 88 THEN 'completed'
              WHEN (p.id * 7919 + a.id * 104729) %% 100 < 96 THEN 'absent'
              ELSE 'excused' END,
         now()
  FROM programmes_participant p
  JOIN programmes_activity a ON a.course_id = p.course_id AND (a.group_id IS NULL OR a.group_id = p.group_id)
  WHERE a.group_id IS NULL OR a.starts_at >= %(tomorrow)s OR a.starts_at < %(awaiting_from)s;
ANALYZE;
"""

# The fastest correct statement found: driven by the marks. Per (course, group) of live
# participants, the weights due, to come, and due without a record for the group (no register,
# no LMS import after its date, not a task a week late), from the course's activities joined by
# course and the group's by group; then one pass over the marks, each counted where its activity
# is one of its participant's (a condition of the sums: as a join condition the planner would
# expect a few thousand rows and sort millions on disk). Weights in hundredths: integer sums.
MARKS_DRIVEN = """
WITH g AS (
  SELECT DISTINCT course_id, group_id FROM programmes_participant WHERE status IN ('active', 'deferred')
), base AS (
  SELECT ga.course_id, ga.group_id,
         SUM(ga.w) FILTER (WHERE ga.due) AS due_all,
         SUM(ga.w) FILTER (WHERE NOT ga.due) AS future,
         SUM(ga.w) FILTER (WHERE ga.due AND NOT ga.recorded AND r.id IS NULL) AS unrecorded
    FROM (SELECT g.course_id, g.group_id, x.id, x.w, x.due, x.recorded
            FROM g JOIN (SELECT id, course_id, group_id, round(weight * 100)::int AS w,
                 COALESCE(starts_at < %(tomorrow)s, false) OR COALESCE(due_on <= %(today)s, false) AS due,
                 COALESCE(imported_on > due_on, false)
                   OR COALESCE(imported_on > (starts_at AT TIME ZONE 'Europe/London')::date, false)
                   OR COALESCE(starts_at IS NULL AND due_on <= %(grace)s, false) AS recorded
            FROM programmes_activity WHERE required AND counts_towards_engagement) x ON x.course_id = g.course_id AND x.group_id IS NULL
          UNION ALL
          SELECT g.course_id, g.group_id, x.id, x.w, x.due, x.recorded
            FROM g JOIN (SELECT id, course_id, group_id, round(weight * 100)::int AS w,
                 COALESCE(starts_at < %(tomorrow)s, false) OR COALESCE(due_on <= %(today)s, false) AS due,
                 COALESCE(imported_on > due_on, false)
                   OR COALESCE(imported_on > (starts_at AT TIME ZONE 'Europe/London')::date, false)
                   OR COALESCE(starts_at IS NULL AND due_on <= %(grace)s, false) AS recorded
            FROM programmes_activity WHERE required AND counts_towards_engagement) x ON x.group_id = g.group_id AND x.course_id = g.course_id) ga
    LEFT JOIN programmes_register r ON r.activity_id = ga.id AND COALESCE(r.group_id, 0) = COALESCE(ga.group_id, 0)
   GROUP BY ga.course_id, ga.group_id
), marks AS (
  -- Each mark counts where its activity is one of the participant's (its course, their group):
  -- a condition of the sums, not of the join, so the planner knows it aggregates every mark.
  SELECT m.participant_id,
         SUM(x.w) FILTER (WHERE x.due AND m.status IN ('attended', 'completed') AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS done,
         SUM(x.w) FILTER (WHERE x.due AND m.status = 'excused' AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS excused_due,
         SUM(x.w) FILTER (WHERE NOT x.due AND m.status = 'excused' AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS excused_future,
         SUM(x.w) FILTER (WHERE x.due AND NOT x.recorded AND r.id IS NULL AND x.course_id = p.course_id
                            AND (x.group_id IS NULL OR x.group_id = p.group_id)) AS marked_unrecorded
    FROM programmes_attendance m
    JOIN programmes_participant p ON p.id = m.participant_id AND p.status IN ('active', 'deferred')
    JOIN (SELECT id, course_id, group_id, round(weight * 100)::int AS w,
                 COALESCE(starts_at < %(tomorrow)s, false) OR COALESCE(due_on <= %(today)s, false) AS due,
                 COALESCE(imported_on > due_on, false)
                   OR COALESCE(imported_on > (starts_at AT TIME ZONE 'Europe/London')::date, false)
                   OR COALESCE(starts_at IS NULL AND due_on <= %(grace)s, false) AS recorded
            FROM programmes_activity WHERE required AND counts_towards_engagement) x ON x.id = m.activity_id
    LEFT JOIN programmes_register r ON r.activity_id = m.activity_id AND COALESCE(r.group_id, 0) = COALESCE(p.group_id, 0)
   GROUP BY m.participant_id
), t AS (
  SELECT p.id AS pk,
         COALESCE(k.done, 0) AS done,
         b.due_all - COALESCE(k.excused_due, 0) AS due_all,
         b.due_all - COALESCE(k.excused_due, 0) - (COALESCE(b.unrecorded, 0) - COALESCE(k.marked_unrecorded, 0)) AS due,
         COALESCE(b.future, 0) - COALESCE(k.excused_future, 0) AS future
    FROM programmes_participant p
    JOIN base b ON b.course_id = p.course_id AND COALESCE(b.group_id, 0) = COALESCE(p.group_id, 0)
    LEFT JOIN marks k ON k.participant_id = p.id
   WHERE p.status IN ('active', 'deferred')
)
INSERT INTO programmes_engagementtally (participant_id, percent, done_weight, due_weight, awaiting_weight,
                                        projected_percent, on_track, computed_at)
SELECT pk,
       CASE WHEN due > 0 THEN round(done * 100.0 / due, 2) END,
       done / 100.0, due / 100.0, (due_all - due) / 100.0,
       CASE WHEN due_all + future > 0 THEN round((done + due_all - due + future) * 100.0 / (due_all + future), 2) END,
       due = 0 OR done * 100 >= 90 * due,
       now()
  FROM t
ON CONFLICT (participant_id) DO UPDATE SET
  percent = EXCLUDED.percent, done_weight = EXCLUDED.done_weight, due_weight = EXCLUDED.due_weight,
  awaiting_weight = EXCLUDED.awaiting_weight, projected_percent = EXCLUDED.projected_percent,
  on_track = EXCLUDED.on_track, computed_at = EXCLUDED.computed_at
"""

# What the portal ran before (and the earlier bench's "hand-written" baseline): participants
# joined to every activity of their course, filtered by group afterwards (99M rows thrown away
# at 100,000 participants), with the marks and registers left-joined. Kept for --explain.
JOINED_BY_COURSE = """
SELECT p.id,
       COALESCE(SUM(a.weight) FILTER (WHERE (a.starts_at < %(tomorrow)s OR a.due_on <= %(today)s)
                                       AND m.status IN ('attended', 'completed')), 0) AS done
  FROM programmes_participant p
  JOIN programmes_activity a ON a.course_id = p.course_id AND (a.group_id IS NULL OR a.group_id = p.group_id)
       AND a.required AND a.counts_towards_engagement
  LEFT JOIN programmes_attendance m ON m.activity_id = a.id AND m.participant_id = p.id
  LEFT JOIN programmes_register r ON r.activity_id = a.id
       AND (r.group_id = p.group_id OR (r.group_id IS NULL AND p.group_id IS NULL))
 WHERE p.status IN ('active', 'deferred')
 GROUP BY p.id
"""

CHECKSUM = (
    "SELECT count(*), sum(percent), sum(projected_percent), sum(due_weight), sum(awaiting_weight),"
    " count(*) FILTER (WHERE on_track) FROM programmes_engagementtally"
)


def generate(participants: int, courses: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from engagement.tally import _start_of_next_day

    call_command("migrate", verbosity=0)
    groups_per_course = max(1, participants // courses // PARTICIPANTS_PER_GROUP)
    per_group = participants // (courses * groups_per_course)
    with connection.cursor() as cursor:
        cursor.execute(
            GENERATE,
            {
                "start": TODAY - timedelta(days=180),
                "end": TODAY + timedelta(days=180),
                "courses": courses,
                "groups_per_course": groups_per_course,
                "participants": per_group * courses * groups_per_course,
                "per_group": per_group,
                "course_activities": ACTIVITIES_PER_COURSE,
                "group_activities": ACTIVITIES_PER_GROUP,
                "tomorrow": _start_of_next_day(TODAY),
                # The last group seminar due by TODAY has no register yet.
                "awaiting_from": _start_of_next_day(TODAY) - timedelta(days=21),
            },
        )


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
    from engagement.tally import TASK_RECORD_DAYS, _start_of_next_day

    return {
        "today": TODAY,
        "tomorrow": _start_of_next_day(TODAY),
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
            "Fastest SQL found (bench/engagement.py MARKS_DRIVEN)",
            _plan(MARKS_DRIVEN, _params(), TALLY_WORK_MEM),
        ),
    ):
        print(f"== {title}")
        print("\n".join(plan))
        print(f"-- written to disk: {spills(plan) or 'nothing'}\n", flush=True)


def bench_scale(participants: int, courses: int) -> dict:
    recreate_database()
    started = time.perf_counter()
    generate(participants, courses)
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
