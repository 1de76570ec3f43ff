"""Benchmark of the engagement tally on PostgreSQL (run with `make bench`, not part of the tests).

For each scale (participants x 40 activities, one attendance mark per pair, except the group
seminars whose register is not taken yet) it
1. generates the data server-side in a database of its own (``npq_bench``),
2. times the portal's tally (``programmes.engagement.tally_course`` for every course) in a
   fresh worker-like process, recording that process's peak memory,
3. times one hand-written SQL statement computing and storing the same percentages (with the
   activities awaiting their record: registers not taken, units not imported),
4. checks that both stored the same numbers, and prints both times and their ratio.

Usage: python bench/engagement.py [--scales 10000,100000] [--courses 50]
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

HAND_WRITTEN = """
INSERT INTO programmes_engagementtally (participant_id, percent, done_weight, due_weight, awaiting_weight,
                                        projected_percent, on_track, computed_at)
SELECT id,
       CASE WHEN due > 0 THEN round(done * 100 / due, 2) END,
       done, due, due_all - due,
       CASE WHEN due_all + future > 0 THEN round((done + due_all - due + future) * 100 / (due_all + future), 2) END,
       due = 0 OR done * 100 >= 90 * due,
       now()
FROM (
  SELECT p.id,
         COALESCE(SUM(a.weight) FILTER (WHERE (a.starts_at < %(tomorrow)s OR a.due_on <= %(today)s)
                                         AND m.status IN ('attended', 'completed')), 0) AS done,
         COALESCE(SUM(a.weight) FILTER (WHERE (a.starts_at < %(tomorrow)s OR a.due_on <= %(today)s)
                                         AND (m.status IS NOT NULL OR r.id IS NOT NULL
                                              OR a.imported_on > a.due_on
                                              OR a.imported_on > (a.starts_at AT TIME ZONE 'Europe/London')::date
                                              OR (a.starts_at IS NULL AND a.due_on <= %(grace)s))
                                         AND (m.status IS NULL OR m.status <> 'excused')), 0) AS due,
         COALESCE(SUM(a.weight) FILTER (WHERE (a.starts_at < %(tomorrow)s OR a.due_on <= %(today)s)
                                         AND (m.status IS NULL OR m.status <> 'excused')), 0) AS due_all,
         COALESCE(SUM(a.weight) FILTER (WHERE NOT (COALESCE(a.starts_at < %(tomorrow)s, false)
                                                   OR COALESCE(a.due_on <= %(today)s, false))
                                         AND (m.status IS NULL OR m.status <> 'excused')), 0) AS future
  FROM programmes_participant p
  JOIN programmes_activity a ON a.course_id = p.course_id AND (a.group_id IS NULL OR a.group_id = p.group_id)
       AND a.required AND a.counts_towards_engagement
  LEFT JOIN programmes_attendance m ON m.activity_id = a.id AND m.participant_id = p.id
  LEFT JOIN programmes_register r ON r.activity_id = a.id
       AND (r.group_id = p.group_id OR (r.group_id IS NULL AND p.group_id IS NULL))
  WHERE p.status IN ('active', 'deferred')
  GROUP BY p.id
) totals
ON CONFLICT (participant_id) DO UPDATE SET
  percent = EXCLUDED.percent, done_weight = EXCLUDED.done_weight, due_weight = EXCLUDED.due_weight,
  awaiting_weight = EXCLUDED.awaiting_weight, projected_percent = EXCLUDED.projected_percent,
  on_track = EXCLUDED.on_track, computed_at = EXCLUDED.computed_at
"""

CHECKSUM = (
    "SELECT count(*), sum(percent), sum(projected_percent), sum(due_weight), sum(awaiting_weight),"
    " count(*) FILTER (WHERE on_track) FROM programmes_engagementtally"
)


def generate(participants: int, courses: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from programmes.engagement import _start_of_next_day

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
    from programmes.tasks import tally_all_courses

    started = time.perf_counter()
    stored = tally_all_courses.run(TODAY.isoformat())  # the nightly job, as its worker runs it
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "stored": stored}


def run_hand_written() -> float:
    from django.db import connection, transaction

    from programmes.engagement import TASK_RECORD_DAYS, _start_of_next_day

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            HAND_WRITTEN,
            {
                "today": TODAY,
                "tomorrow": _start_of_next_day(TODAY),
                "grace": TODAY - timedelta(days=TASK_RECORD_DAYS),
            },
        )
    return time.perf_counter() - started


def bench_scale(participants: int, courses: int) -> dict:
    recreate_database()
    started = time.perf_counter()
    generate(participants, courses)
    generated_in = time.perf_counter() - started
    facts = counts()
    app_runs, hand_runs = [], []
    for _ in range(2):  # the better of two runs each, alternating, so caches favour neither
        clear_tallies()
        result = subprocess.run(  # noqa: S603 - fixed argument list
            [sys.executable, __file__, "--tally-only"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        app = json.loads(result.stdout.strip().splitlines()[-1])
        app_runs.append(app)
        app_sum = checksum()
        clear_tallies()
        hand_runs.append(run_hand_written())
        hand_sum = checksum()
        if app_sum != hand_sum:
            raise SystemExit(f"The tally and the hand-written SQL disagree: {app_sum} != {hand_sum}")
    app = min(app_runs, key=lambda r: r["seconds"])
    hand = min(hand_runs)
    return {
        **facts,
        "generated_in_s": round(generated_in, 1),
        "app_s": round(app["seconds"], 3),
        "sql_s": round(hand, 3),
        "ratio": round(app["seconds"] / hand, 2),
        "peak_worker_mb": round(max(r["peak_mb"] for r in app_runs), 1),
        "app_us_per_row": round(app["seconds"] * 1e6 / facts["attendance_rows"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10000,100000")
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--tally-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.tally_only:
        print(json.dumps(run_app_tally()))
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
