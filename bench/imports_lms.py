"""The LMS completions import measured (bench/imports.py): a 100,000-row export read by
``engagement.lms_import.import_lms_completions`` against COPY into a temporary table and one
INSERT ... ON CONFLICT (with the history rows and the activities' ``imported_on``), both rolled back.
"""

from __future__ import annotations

import csv
import io
import random

from bench.measuring import RUNS, load_average, rolled_back

LMS_ROWS = 100_000
LMS_GOAL_S = 30.0

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
        seconds, outcome, portal_effect = rolled_back(lambda: lms_portal(raw), lms_effect)
        portal.append(seconds)
        seconds, _, baseline_effect = rolled_back(lambda: lms_baseline(raw), lms_effect)
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
                f"runs {', '.join(f'{s:.2f}' for s in portal)} s; load {load_average()}"
            ),
        }
    ]


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

    rolled_back(work)
