"""The statements that generate the benchmark's dataset (bench/dataset.py), in order.

Each is run by ``bench.dataset.generate`` with the parameters of ``bench.dataset._params``
(``%(hubs)s``, ``%(groups)s``...), server side, and timed on its own.
"""

# Steps in order; each is one statement (psycopg sends one at a time, so each is timed).
GENERATE: list[tuple[str, str]] = [
    (
        "lead provider and hubs",
        """
INSERT INTO programmes_leadprovider (name) VALUES ('Bench provider');
""",
    ),
    (
        "hubs",
        """
INSERT INTO programmes_hub (name, lead_provider_id, contact_email)
  SELECT 'Bench hub ' || h, lp.id, 'hub' || h || '@bench.test'
  FROM programmes_leadprovider lp, generate_series(1, %(hubs)s) h WHERE lp.name = 'Bench provider'
""",
    ),
    (
        "cohorts",
        """
INSERT INTO programmes_cohort (hub_id, identifier, start_date, registration_opens_on, registration_closes_on,
                               funding_model, funding_round_id)
  SELECT h.id, 'bench-' || c, %(start)s::date + (c - 1) * 120, %(start)s::date - 120 + (c - 1) * 120,
         %(start)s::date - 20 + (c - 1) * 120, 'full', r.id
  FROM programmes_hub h, funding_fundinground r, generate_series(1, %(cohorts_per_hub)s) c
  WHERE r.code = '2025' AND h.name LIKE 'Bench hub %%'
""",
    ),
    (
        "courses",
        """
WITH programmes AS (
  SELECT id, row_number() OVER (ORDER BY id) AS k FROM programmes_programme WHERE kind <> 'support_offer'
), cohorts AS (
  SELECT id, start_date, row_number() OVER (PARTITION BY hub_id ORDER BY id) AS c FROM programmes_cohort
)
INSERT INTO programmes_course (cohort_id, programme_id, delivery_start, delivery_end, funded_places)
  SELECT co.id, p.id, co.start_date, co.start_date + 365, 1000000
  FROM cohorts co JOIN programmes p ON p.k > (co.c - 1) * %(per_cohort)s AND p.k <= co.c * %(per_cohort)s
  ORDER BY co.id, p.id
""",
    ),
    (
        "groups",
        """
WITH courses AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM programmes_course
)
INSERT INTO programmes_group (course_id, name, mode, venue, capacity, enrolled)
  SELECT c.id, 'Group ' || g, CASE WHEN g %% 3 = 0 THEN 'in_person' ELSE 'online' END,
         CASE WHEN g %% 3 = 0 THEN 'Bench venue ' || g ELSE '' END, 25, %(per_group)s
  FROM generate_series(0, %(groups)s - 1) g
  JOIN courses c ON c.k = CASE WHEN g < %(big_groups)s THEN 0 ELSE 1 + (g - %(big_groups)s) %% (c.n - 1) END
  ORDER BY g
""",
    ),
    (
        "participants' accounts",
        """
INSERT INTO accounts_user (password, is_superuser, email, full_name, is_staff, is_active, date_joined)
  SELECT '!', false, 'p' || n || '@bench.test', 'Participant ' || n, false, true, now()
  FROM generate_series(1, %(groups)s * %(per_group)s) n
""",
    ),
    (
        "participants",
        """
WITH numbered_groups AS (
  SELECT id, course_id, row_number() OVER (ORDER BY id) - 1 AS k FROM programmes_group
), numbered_users AS (
  SELECT id, substring(email from 2 for position('@' in email) - 2)::int - 1 AS k
  FROM accounts_user WHERE email LIKE 'p%%@bench.test'
)
INSERT INTO programmes_participant (user_id, course_id, group_id, trn, status, status_reason, mentor_name,
                                    mentor_email, enrolled_at)
  SELECT u.id, g.course_id, g.id, (1000000 + u.k)::text,
         CASE WHEN u.k %% 50 = 49 THEN 'deferred' ELSE 'active' END,
         CASE WHEN u.k %% 50 = 49 THEN 'Maternity leave' ELSE '' END, '', '', %(start)s::timestamptz
  FROM numbered_users u JOIN numbered_groups g ON g.k = u.k / %(per_group)s
""",
    ),
    (
        "course units",
        """
INSERT INTO programmes_activity (course_id, group_id, code, kind, title, starts_at, ends_at, due_on, weight,
                                 required, counts_towards_engagement)
  SELECT c.id, NULL, 'unit-' || a, 'online_study_unit', 'Unit ' || a, NULL, NULL,
         %(start)s::date + (a * 7), CASE WHEN a %% 10 = 0 THEN 2 ELSE 1 END, true, true
  FROM programmes_course c, generate_series(1, %(course_activities)s) a
""",
    ),
    (
        "group seminars",
        """
INSERT INTO programmes_activity (course_id, group_id, code, kind, title, starts_at, ends_at, due_on, weight,
                                 required, counts_towards_engagement)
  SELECT g.course_id, g.id, 'g' || g.id || '-seminar-' || a, 'seminar', 'Seminar ' || a,
         (%(start)s::date + (a * 21))::timestamp AT TIME ZONE 'Europe/London' + interval '16 hours', NULL, NULL,
         1, true, true
  FROM programmes_group g, generate_series(1, %(group_activities)s) a
""",
    ),
    # Registers taken for every group seminar but the last one due (it awaits its record: no
    # marks); LMS imports of the units every fourth week (the others await theirs until late).
    (
        "registers",
        """
INSERT INTO programmes_register (activity_id, group_id, taken_at)
  SELECT a.id, a.group_id, a.starts_at + interval '2 hours' FROM programmes_activity a
  WHERE a.group_id IS NOT NULL AND a.starts_at < %(awaiting_from)s
""",
    ),
    (
        "units imported",
        """
UPDATE programmes_activity SET imported_on = due_on + 2 WHERE group_id IS NULL AND id %% 4 = 0
""",
    ),
    (
        "attendance marks",
        """
INSERT INTO programmes_attendance (participant_id, activity_id, status, recorded_at)
  SELECT p.id, a.id,
         CASE WHEN (p.id * 7919 + a.id * 104729) %% 100 < 80 THEN 'attended'
              WHEN (p.id * 7919 + a.id * 104729) %% 100 < 88 THEN 'completed'
              WHEN (p.id * 7919 + a.id * 104729) %% 100 < 96 THEN 'absent'
              ELSE 'excused' END,
         COALESCE(a.starts_at, a.due_on::timestamptz) + interval '3 hours'
  FROM programmes_participant p
  JOIN programmes_activity a ON a.course_id = p.course_id AND (a.group_id IS NULL OR a.group_id = p.group_id)
  WHERE a.group_id IS NULL OR a.starts_at >= %(tomorrow)s OR a.starts_at < %(awaiting_from)s
""",
    ),
    (
        "GIAS establishments",
        """
INSERT INTO funding_institution (urn, ukprn, name, establishment_type_code, establishment_type_name, status,
                                 phase, number_of_pupils, la_code, la_name, postcode, open_date)
  SELECT 100000 + n, CASE WHEN n %% 5 = 0 THEN 10000000 + n END, 'Bench school ' || n,
         CASE n %% 4 WHEN 0 THEN 1 WHEN 1 THEN 28 WHEN 2 THEN 34 ELSE 2 END,
         CASE n %% 4 WHEN 0 THEN 'Community school' WHEN 1 THEN 'Academy sponsor led'
              WHEN 2 THEN 'Academy converter' ELSE 'Voluntary aided school' END,
         'Open', CASE WHEN n %% 3 = 0 THEN 'Secondary' ELSE 'Primary' END, 100 + n %% 1400,
         lpad((201 + n %% 150)::text, 3, '0'), 'Bench authority ' || (n %% 150),
         'BN' || (n %% 90 + 1) || ' ' || (n %% 9 + 1) || chr(65 + n %% 26) || chr(65 + n / 26 %% 26),
         DATE '2000-09-01' + n %% 8000
  FROM generate_series(1, %(schools)s) n
""",
    ),
    (
        "applicants without a place",
        """
INSERT INTO accounts_user (password, is_superuser, email, full_name, is_staff, is_active, date_joined)
  SELECT '!', false, 'a' || n || '@bench.test', 'Applicant ' || n, false, true, now()
  FROM generate_series(1, %(other_applications)s) n
""",
    ),
    (
        "funding decisions",
        """
INSERT INTO funding_fundingdecision (user_id, course_id, funding_round_id, facts, funded, reason, subject_to_review,
                                     targeted_support_funding_gbp, assessed_at, override_reason)
  SELECT x.user_id, x.course_id, r.id, '{}'::jsonb, x.k %% 10 <> 0,
         CASE WHEN x.k %% 10 = 0 THEN 'not_in_england' ELSE 'funded' END, false, 0, %(start)s::timestamptz - interval '30 days', ''
  FROM (
    SELECT user_id, course_id, id AS k FROM programmes_participant
    UNION ALL
    SELECT u.id, c.id, u.id FROM accounts_user u
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM programmes_course) c
      ON c.k = u.id %% c.n
    WHERE u.email LIKE 'a%%@bench.test'
  ) x, funding_fundinground r WHERE r.code = '2025'
""",
    ),
    (
        "applications",
        """
INSERT INTO applications_application (user_id, cohort_id, course_id, status, answers, started_at, submitted_at, trn,
                                      full_name, date_of_birth, workplace_name, endorser_name, endorser_email,
                                      payment, support_requested, funding_decision_id, waitlist_position,
                                      decision_reason, participant_id)
  SELECT u.id, c.cohort_id, c.id, s.status, '{}'::jsonb,
         c.delivery_start - 90 + (u.id %% 60) * interval '1 day' ,
         CASE WHEN s.status <> 'draft' THEN c.delivery_start - 89 + (u.id %% 60) * interval '1 day' END,
         COALESCE(p.trn, (3000000 + u.id)::text), u.full_name, DATE '1980-01-01' + (u.id %% 9000)::int,
         'Bench school ' || (1 + u.id %% %(schools)s), 'Head ' || u.id, 'head' || u.id || '@bench.test',
         'scholarship', false, d.id, CASE WHEN s.status = 'waitlisted' THEN u.id %% 500 + 1 END,
         CASE WHEN s.status IN ('rejected', 'withdrawn') THEN 'Bench reason' ELSE '' END, p.id
  FROM funding_fundingdecision d
  JOIN accounts_user u ON u.id = d.user_id
  JOIN programmes_course c ON c.id = d.course_id
  LEFT JOIN programmes_participant p ON p.user_id = u.id AND p.course_id = c.id
  CROSS JOIN LATERAL (
    SELECT CASE WHEN p.id IS NOT NULL THEN 'accepted'
           ELSE (ARRAY['submitted', 'awaiting_endorsement', 'endorsed', 'waitlisted', 'rejected', 'withdrawn',
                       'draft', 'registration_expired'])[1 + u.id %% 8] END AS status
  ) s
""",
    ),
]
