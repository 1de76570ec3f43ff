"""The trial's own services and database (`make chaos`, scripts/chaos.py): a Redis and an SMTP
sink of its own, a PostgreSQL database created for it (and dropped at the end), two prefork
Celery workers and beat running the outbox sweeper, all with production's timings shortened;
and the reminders (and participants to tally) that each scenario makes due again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from tests.faults import RedisServer, SmtpSink, start_worker, stop, worker_env

ROOT = Path(__file__).resolve().parent.parent

SHORT_TIMINGS = {
    "NOTIFICATION_CLAIM_SECONDS": "10",
    "NOTIFICATION_RETRY_BACKOFF_SECONDS": "1",
    "NOTIFICATION_DISPATCH_GRACE_SECONDS": "5",
    "NOTIFICATION_REDISPATCH_SECONDS": "15",
    "TASK_RETRY_BACKOFF_SECONDS": "1",
    "CELERY_TASK_SOFT_TIME_LIMIT": "150",
    "CELERY_TASK_TIME_LIMIT": "180",
    "EMAIL_TIMEOUT": "10",
    "CHAOS_SWEEP_SECONDS": "2",
}
QUEUE = "chaos"
JOB = "registration_deadline"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def database_url() -> str:
    """The trial's own database, on the server of CHAOS_DATABASE_URL or DATABASE_URL."""
    if os.environ.get("CHAOS_DATABASE_URL"):
        return os.environ["CHAOS_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/npq_portal")
    if not base.startswith("postgres"):
        sys.exit("make chaos needs PostgreSQL: set CHAOS_DATABASE_URL or DATABASE_URL to a postgres:// URL")
    return urlunparse(urlparse(base)._replace(path="/npq_chaos_trial"))


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as session:
        session.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        session.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as session:
        session.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


@dataclass
class Outcome:
    scenario: str
    due: int
    delivered: int
    duplicated: int
    lost: int
    same_message_id: bool
    note: str = ""


class TrialSetup:
    def __init__(self, *, reminders: int, logs: Path):
        self.reminders = reminders
        self.logs = logs
        self.redis = RedisServer()
        self.sink = SmtpSink()
        self.db_url = database_url()
        self.env = worker_env(
            database_url=self.db_url,
            broker_url=self.redis.url,
            queue=QUEUE,
            smtp_url=self.sink.url,
            MEDIA_ROOT=tempfile.mkdtemp(prefix="npq-chaos-media-"),  # the import's file, for every worker
            **SHORT_TIMINGS,
        )
        self.workers: list[subprocess.Popen] = []
        self.beat: subprocess.Popen | None = None
        self.expected: set[str] = set()
        self.outcomes: list[Outcome] = []
        self.closed = self.jobs_running = self.imports_running = 0

    # --- Setting up ------------------------------------------------------------------------------

    def start(self, *, reuse: bool = False) -> None:
        name = urlparse(self.db_url).path.lstrip("/")
        if not reuse:
            say(f"database {name}: creating and migrating")
            recreate_database(self.db_url)
        os.environ.update(self.env)  # this process works on the same database and broker
        import django

        django.setup()
        from django.core.management import call_command

        if reuse:
            self.seeded()
        else:
            call_command("migrate", verbosity=0)
            say("migrated")
            self.seed()
        self.redis.start()
        say(f"redis-server on port {self.redis.port} (AOF, fsync always); SMTP sink on {self.sink.port}")
        for number in range(2):
            self.workers.append(self.start_worker(number))
        self.beat = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(ROOT / "scripts" / "chaos_beat.py")],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.logs / "beat.log", "ab"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
        )
        from npq_portal.celery import ping

        for _ in self.workers:
            assert ping.apply_async(args=["ready"]).get(timeout=120) == "ready"
        say("2 workers (prefork, 2 children each) and beat (the sweeper every 2 s) are up")

    def database_exists(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.db_url) as session:
                return bool(session.execute("SELECT to_regclass('notifications_notification')").fetchone()[0])
        except psycopg.OperationalError:
            return False

    def start_worker(self, number: int) -> subprocess.Popen:
        return start_worker(
            self.env, name=f"chaos-{number}", concurrency=2, log=self.logs / f"worker-{number}.log"
        )

    def seed(self) -> None:
        """Applications on day 4 of 5, one per person, and participants for the tally."""
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from applications.models import Application
        from programmes.models import Participant
        from tests.factories import ActivityFactory, CourseFactory, GroupFactory, complete_answers

        User = get_user_model()
        course = CourseFactory()
        users = User.objects.bulk_create(
            User(email=f"applicant-{n:04d}@chaos.test", password="!")  # noqa: S106 - "!": unusable
            for n in range(self.reminders)
        )
        started = timezone.now() - timedelta(days=3, hours=1)
        answers = complete_answers(course)
        Application.objects.bulk_create(
            Application(user=user, cohort=course.cohort, course=course, answers=answers, started_at=started)
            for user in users
        )
        self.expected = {user.email.lower() for user in users}
        group = GroupFactory(capacity=250)
        for day in (20, 13, 6):
            ActivityFactory(group=group, starts_at=timezone.now() - timedelta(days=day))
        learners = User.objects.bulk_create(
            User(email=f"participant-{n:04d}@chaos.test", password="!")  # noqa: S106 - "!": unusable
            for n in range(200)
        )
        Participant.objects.bulk_create(
            Participant(user=user, course=group.course, group=group, trn=f"{3000000 + n}")
            for n, user in enumerate(learners)
        )
        self.tally_course_id = group.course_id
        say(f"{self.reminders} reminders due; 200 participants to tally")

    def seeded(self) -> None:
        """What an earlier run with --keep-database seeded (its reminders are due for a day)."""
        from django.contrib.auth import get_user_model

        from programmes.models import Participant

        users = get_user_model().objects.filter(email__startswith="applicant-", email__endswith="@chaos.test")
        self.expected = {email.lower() for email in users.values_list("email", flat=True)}
        self.tally_course_id = Participant.objects.values_list("course_id", flat=True).first()
        say(f"database kept from an earlier run: {len(self.expected)} reminders due")

    def stop(self, *, keep_database: bool = False) -> None:
        for worker in self.workers:
            stop(worker, graceful=False)
        if self.beat:
            stop(self.beat, graceful=False)
        self.sink.close()
        self.redis.close()
        if keep_database:
            return
        try:
            from django.db import connections

            connections.close_all()
            drop_database(self.db_url)
        except Exception as exc:  # the trial's result stands; say what is left behind
            say(f"could not drop the trial database: {exc}")
