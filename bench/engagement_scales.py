"""The older scale study's data (bench/engagement.py ``--scales``): a database of its own shape
generated at each scale, x 40 activities per participant (30 course units, 10 group seminars),
after the bench database is DROPPED and recreated (``bench.dataset.recreate_database``)."""

from __future__ import annotations

from datetime import date, timedelta

ACTIVITIES_PER_COURSE = 30  # course-wide; each group adds 10 of its own: 40 per participant
ACTIVITIES_PER_GROUP = 10
PARTICIPANTS_PER_GROUP = 20

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


def generate(participants: int, courses: int, *, today: date) -> None:
    from django.core.management import call_command
    from django.db import connection

    from engagement.tally import start_of_next_day

    call_command("migrate", verbosity=0)
    groups_per_course = max(1, participants // courses // PARTICIPANTS_PER_GROUP)
    per_group = participants // (courses * groups_per_course)
    with connection.cursor() as cursor:
        cursor.execute(
            GENERATE,
            {
                "start": today - timedelta(days=180),
                "end": today + timedelta(days=180),
                "courses": courses,
                "groups_per_course": groups_per_course,
                "participants": per_group * courses * groups_per_course,
                "per_group": per_group,
                "course_activities": ACTIVITIES_PER_COURSE,
                "group_activities": ACTIVITIES_PER_GROUP,
                "tomorrow": start_of_next_day(today),
                # The last group seminar due by today has no register yet.
                "awaiting_from": start_of_next_day(today) - timedelta(days=21),
            },
        )
