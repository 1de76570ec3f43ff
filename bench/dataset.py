"""The benchmark's dataset: a large provider's year, generated once in PostgreSQL and reused.

``ensure_dataset()`` looks for the marker row (table ``bench_dataset``) holding
``DATASET_VERSION``. Without it (a new database, a different version, or a generation that
stopped half-way) it drops and recreates the bench database, migrates it and generates, server
side in SQL:

- 5 hubs of one lead provider, each with 2 cohorts of 5 NPQs: 50 courses;
- 5,000 groups of 20 participants: 100,000 participants. The groups are not spread evenly: the
  first course has 500 groups (10,000 participants, the "big course" of the page measurements),
  the other 49 share the rest (about 1,840 participants each);
- per course 30 online units, per group 10 seminars: 40 activities per participant, with one
  attendance mark per pair (80% attended, 8% completed, 8% absent, 4% excused) except the last
  seminar due, whose register is not taken yet: about 3.9 million marks; a quarter of the units
  imported from the LMS;
- 110,000 applications: the 100,000 accepted ones of the participants and 10,000 others
  (submitted, waiting for endorsement, endorsed, on the waiting list, rejected, withdrawn,
  drafts), each with its funding decision;
- 50,000 GIAS establishments;
- the nightly engagement tally, as of ``TALLY_DAY``;
- one hub administrator per hub, with an authenticator app (``STAFF_TOTP_SECRET``) and the
  password ``STAFF_PASSWORD``, so a person can also sign in to the bench database by hand.

Measurements take this dataset as given: what they change they put back, or they work on
copies (a measurement that needs its own data creates it in its own tables or database).
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/npq_bench")
DATASET_VERSION = "2026-11-26.1"

HUBS = 5
COHORTS_PER_HUB = 2
PROGRAMMES_PER_COHORT = 5
GROUPS = 5_000
BIG_COURSE_GROUPS = 500
PARTICIPANTS_PER_GROUP = 20
COURSE_ACTIVITIES = 30
GROUP_ACTIVITIES = 10
OTHER_APPLICATIONS = 10_000
GIAS_SCHOOLS = 50_000
# The day the attendance, imports and the stored tally are as of (the tally benchmark's day).
TALLY_DAY = date(2026, 3, 1)
COHORT_START = TALLY_DAY - timedelta(days=180)

STAFF_PASSWORD = "bench-hub-admin-password"  # noqa: S105 - a generated benchmark database only
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - as the test factories'


def admin_email(hub_number: int) -> str:
    return f"hub-admin-{hub_number}@bench.test"


PARTICIPANT_EMAIL = "p1@bench.test"  # in the big course, group 1

MARKER = """
CREATE TABLE IF NOT EXISTS bench_dataset (
  version text PRIMARY KEY, generated_at timestamptz NOT NULL, seconds numeric NOT NULL, facts jsonb NOT NULL
)
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


def setup_django() -> None:
    """Django on the bench database (the caller may have chosen the settings already)."""
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("DJANGO_ENV", "local")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npq_portal.settings")
    import django

    django.setup()


def _admin_url() -> tuple[str, str]:
    url = urlparse(BENCH_URL)
    return url.path.lstrip("/"), url._replace(path="/postgres").geturl()


def dataset_version() -> str | None:
    """The version of the dataset in the bench database, or None (no database, no marker)."""
    import psycopg

    try:
        with psycopg.connect(BENCH_URL, connect_timeout=5) as conn:
            present = conn.execute("SELECT to_regclass('bench_dataset')").fetchone()[0]
            if present is None:
                return None
            row = conn.execute("SELECT version FROM bench_dataset").fetchone()
            return row[0] if row else None
    except psycopg.OperationalError:
        return None


def recreate_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name, admin = _admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _params() -> dict[str, object]:
    tomorrow = datetime.combine(
        TALLY_DAY + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo("Europe/London")
    )
    return {
        "hubs": HUBS,
        "cohorts_per_hub": COHORTS_PER_HUB,
        "per_cohort": PROGRAMMES_PER_COHORT,
        "groups": GROUPS,
        "big_groups": BIG_COURSE_GROUPS,
        "per_group": PARTICIPANTS_PER_GROUP,
        "course_activities": COURSE_ACTIVITIES,
        "group_activities": GROUP_ACTIVITIES,
        "schools": GIAS_SCHOOLS,
        "other_applications": OTHER_APPLICATIONS,
        "start": COHORT_START,
        "tomorrow": tomorrow,
        # The last group seminar due by TALLY_DAY has no register yet.
        "awaiting_from": tomorrow - timedelta(days=21),
    }


def _staff() -> None:
    """One hub administrator per hub, set up as the portal sets staff up (services, TOTP)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP

    from accounts.models import User
    from programmes.models import Hub, HubMembership
    from programmes.services import hub_membership_add

    for number, hub in enumerate(Hub.objects.filter(name__startswith="Bench hub").order_by("pk"), start=1):
        user = User.objects.create_user(
            admin_email(number), STAFF_PASSWORD, full_name=f"Hub administrator {number}", is_staff=True
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        TOTP.activate(user, STAFF_TOTP_SECRET)
        hub_membership_add(hub=hub, user=user, role=HubMembership.Role.HUB_ADMIN)


def facts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "hubs": "programmes_hub",
        "courses": "programmes_course",
        "groups": "programmes_group",
        "participants": "programmes_participant",
        "activities": "programmes_activity",
        "attendance_marks": "programmes_attendance",
        "applications": "applications_application",
        "gias_schools": "funding_institution",
        "tallies": "programmes_engagementtally",
    }
    with connection.cursor() as cursor:
        counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in tables.values())  # noqa: S608
        cursor.execute(f"SELECT {counts}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


def generate(log=print) -> dict[str, int]:
    """Drop and regenerate the bench database; the marker is written last."""
    import json

    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    recreate_database()
    call_command("migrate", verbosity=0)
    log(f"  migrated in {time.perf_counter() - started:.0f} s")
    params = _params()
    with connection.cursor() as cursor:
        for what, statement in GENERATE:
            step = time.perf_counter()
            cursor.execute(statement, params)
            log(f"  {what}: {cursor.rowcount:,} rows in {time.perf_counter() - step:.1f} s")
        cursor.execute("ANALYZE")
    _staff()
    step = time.perf_counter()
    from engagement.tasks import tally_all_courses

    stored = tally_all_courses.run(TALLY_DAY.isoformat())
    log(f"  engagement tally: {stored:,} participants in {time.perf_counter() - step:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        counted = facts()
        cursor.execute(MARKER)
        cursor.execute(
            "INSERT INTO bench_dataset VALUES (%s, now(), %s, %s)",
            [DATASET_VERSION, round(time.perf_counter() - started, 1), json.dumps(counted)],
        )
    return counted


def ensure_dataset(log=print) -> dict[str, object]:
    """The dataset's facts, generating it first when the bench database does not hold this
    version. Django must be set up on the bench database (``setup_django``)."""
    from django.db import connection

    version = dataset_version()
    if version != DATASET_VERSION:
        log(
            f"Generating the benchmark dataset {DATASET_VERSION} in {BENCH_URL} "
            f"({'was ' + version if version else 'none there'}); this takes several minutes."
        )
        generate(log=log)
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # migrations added since the dataset was made
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generated_at, seconds FROM bench_dataset WHERE version = %s", [DATASET_VERSION]
        )
        generated_at, seconds = cursor.fetchone()
    return {
        "version": DATASET_VERSION,
        "generated_at": generated_at,
        "generated_in_s": float(seconds),
        **facts(),
    }


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    setup_django()
    print(ensure_dataset())
