"""The benchmark's dataset: a large provider's year, generated once in PostgreSQL and reused.

``ensure_dataset()`` looks for the marker row (table ``bench_dataset``) holding
``DATASET_VERSION``. Without it (a new database, a different version, or a generation that
stopped half-way) it drops and recreates the bench database, migrates it and generates, server
side in SQL (the statements are in bench/dataset_sql.py):

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

    from bench.dataset_sql import GENERATE

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
