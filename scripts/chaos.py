"""`make chaos`: the portal under faults, with real processes, bounded in time.

It starts its own Redis (a free port, AOF with fsync on every write), an SMTP sink that logs every
message it accepts, a PostgreSQL database of its own (created on the server of CHAOS_DATABASE_URL
or DATABASE_URL, dropped at the end), two prefork Celery workers and Celery beat running the
outbox sweeper. It makes hundreds of reminders due (``--reminders``, 700 by default: applications
on day 4 of 5, reminded by the `registration_deadline` job) and, for each scenario, deletes what
the last one recorded, runs the job and injects the fault while the job runs and mail is sent:

- none (a baseline);
- repeated kill -9 of worker children while they send (a mail server that takes 20 ms a message);
- kill -9 of the child running the job, 8 times;
- the broker (Redis) killed for 8 seconds;
- the mail server refusing every connection for 30 seconds (about 30 minutes at the production
  backoff: the workers retry after 1 s instead of 60 s);
- every database session of the workers terminated 3 times while the job runs;
- the nightly engagement tally's session terminated twice (it waits on a lock held here);
- a 30,000-row GIAS import's child killed during its load (waiting on a table lock held here).

The workers run with short timings (claims of 10 s, retries from 1 s, the sweeper every 2 s, a
row's own delivery given 5 s) so that what takes minutes in production takes seconds. Each
scenario counts, per reminder due, the messages the sink accepted: delivered (at least one),
duplicated (copies beyond the first; each should carry the same Message-ID) and lost (none).
It ends with the job runs and imports left running. Exit status 1 if anything was lost or left
running. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import (  # noqa: E402
    RedisServer,
    SmtpSink,
    children,
    kill9,
    start_worker,
    stop,
    wait_until,
    worker_env,
)

# Production's timings, shortened (the names are the portal's settings).
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


class Trial:
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

    # --- What a scenario sees --------------------------------------------------------------------

    def reset(self) -> None:
        """A clean slate: the last scenario's notifications and runs go, so the job finds every
        reminder due again."""
        from notifications.models import JobRun, Notification

        self.count_left_running(idle=self.quiet())
        Notification.objects.all().delete()
        JobRun.objects.all().delete()
        self.sink.clear()
        self.sink.latency = 0.0
        self.sink.refusing = False

    def active(self) -> dict:
        """What each worker has in hand (Celery's remote control); {} when the broker is away."""
        from npq_portal.celery import app
        from tests.conftest import reset_celery_connections

        try:
            return app.control.inspect(timeout=1.0).active() or {}
        except Exception:  # a broker restarted under this client: connect afresh next time
            reset_celery_connections(app)
            return {}

    def quiet(self, timeout: float = 60) -> bool:
        """Wait for the workers to have nothing in hand (what the last scenario left running)."""

        def idle() -> bool:
            active = self.active()
            return len(active) == len(self.workers) and not any(active.values())

        try:
            wait_until(idle, timeout=timeout, what="the workers to be idle", every=0.5)
        except TimeoutError:
            say("the workers were still busy; going on")
            return False
        return True

    def recorded(self) -> int:
        from notifications.models import Notification

        return Notification.objects.filter(kind=JOB).count()

    def settled(self) -> bool:
        """The job finished and every reminder it recorded is sent or given up."""
        from notifications.models import JobRun, Notification

        finished = JobRun.objects.filter(job=JOB, finished_at__isnull=False, error="", skipped_overlap=False)
        unsettled = Notification.objects.filter(kind=JOB).exclude(status__in=["sent", "given_up"])
        return finished.exists() and not unsettled.exists()

    def run_job(self):
        from notifications.tasks import run_scheduled_job

        return run_scheduled_job.apply_async(args=[JOB])

    def job_child(self) -> int | None:
        """The pid of the worker child running the job (Celery's remote control says)."""
        return self.running("notifications.tasks.run_scheduled_job", [JOB])

    def running(self, task_name: str, args: list | None = None) -> int | None:
        for tasks in self.active().values():
            for task in tasks:
                if task["name"] == task_name and (args is None or task["args"] == args):
                    return task.get("worker_pid")
        return None

    def all_children(self) -> list[int]:
        return [pid for worker in self.workers for pid in children(worker.pid)]

    def terminate_sessions(self) -> int:
        """pg_terminate_backend on every session of the trial database but this one."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    def outcome(self, scenario: str, note: str) -> Outcome:
        copies: dict[str, list[str]] = defaultdict(list)
        for accepted in self.sink.accepted:
            for recipient in accepted.recipients:
                if recipient.lower() in self.expected:
                    copies[recipient.lower()].append(accepted.message_id)
        delivered = len(copies)
        duplicated = sum(len(ids) - 1 for ids in copies.values())
        same = all(len(set(ids)) == 1 for ids in copies.values())
        return Outcome(
            scenario, len(self.expected), delivered, duplicated, len(self.expected) - delivered, same, note
        )

    def scenario(self, name: str, fault, *, timeout: float = 180) -> Outcome:
        say(f"scenario: {name}")
        self.reset()
        started = time.monotonic()
        self.run_job()
        note = fault() or ""
        try:
            wait_until(self.settled, timeout=timeout, what=f"{name}: every reminder sent", every=0.5)
            time.sleep(1)  # a straggler (a duplicate) would arrive now
        except TimeoutError as exc:
            note = f"{note}; {exc}".strip("; ")
        outcome = self.outcome(name, note)
        say(
            f"  {outcome.delivered} delivered, {outcome.duplicated} duplicated, {outcome.lost} lost "
            f"in {time.monotonic() - started:.0f} s {('(' + note + ')') if note else ''}"
        )
        self.outcomes.append(outcome)
        return outcome

    # --- The faults ------------------------------------------------------------------------------

    def no_fault(self) -> str:
        return ""

    def kill_children_during_sends(self) -> str:
        self.sink.latency = 0.02
        kills = 0
        wait_until(lambda: len(self.sink.accepted) >= 20, timeout=120, what="sending to start")
        deadline = time.monotonic() + 90
        while (
            kills < 30 and len(self.sink.accepted) < len(self.expected) - 30 and time.monotonic() < deadline
        ):
            pool = self.all_children()
            if pool:
                kill9(random.choice(pool))
                kills += 1
            time.sleep(random.uniform(0.2, 0.5))
        return f"{kills} children killed"

    def kill_the_job(self) -> str:
        from notifications.models import JobRun

        kills, last = 0, 0
        deadline = time.monotonic() + 120
        finished = JobRun.objects.filter(job=JOB, finished_at__isnull=False, error="")
        while kills < 8 and time.monotonic() < deadline:
            try:
                wait_until(
                    lambda last=last: self.recorded() >= last + len(self.expected) // 12 or finished.exists(),
                    timeout=60,
                    what="the job to record more",
                    every=0.02,
                )
            except TimeoutError:
                break
            if finished.exists():
                break
            pid = self.job_child()
            if pid:
                kill9(pid)
                kills += 1
                last = self.recorded()
        return f"the job's child killed {kills} times"

    def broker_down(self) -> str:
        wait_until(lambda: self.recorded() >= len(self.expected) // 4, timeout=60, what="the job to record")
        self.redis.kill()
        time.sleep(8)  # the outage itself
        self.redis.start()
        from npq_portal.celery import app
        from tests.conftest import reset_celery_connections

        reset_celery_connections(app)  # this process's own client, as a restarted web process would
        return "Redis killed (kill -9) for 8 s"

    def smtp_down(self) -> str:
        self.sink.refusing = True
        time.sleep(30)  # the outage itself
        self.sink.refusing = False
        return "mail server refused for 30 s"

    def terminate_during_job(self) -> str:
        terminated = 0
        for share in (0.2, 0.5, 0.8):
            try:
                wait_until(
                    lambda share=share: self.recorded() >= len(self.expected) * share,
                    timeout=90,
                    what="the job to record",
                    every=0.02,
                )
            except TimeoutError:
                break
            terminated += self.terminate_sessions()
        return f"{terminated} sessions terminated in 3 rounds"

    def tally_scenario(self) -> Outcome:
        """The nightly tally, its session terminated twice while it waits for a lock held here;
        retried, the tallies are those of a clean run (none stale)."""
        import psycopg
        from django.db import connection
        from django.utils import timezone

        from engagement.models import EngagementTally
        from engagement.tally import TALLY_LOCK_SPACE, tally_courses
        from engagement.tasks import tally_all_courses

        name = "pg_terminate_backend during the nightly tally, 2 times"
        say(f"scenario: {name}")
        self.reset()
        started = time.monotonic()
        EngagementTally.objects.all().delete()
        tally_courses(course_ids=[self.tally_course_id])
        fresh = self.tallies()
        # Last night's tallies, now out of date: the run must replace every one.
        EngagementTally.objects.update(
            percent=0, on_track=False, computed_at=timezone.now() - timedelta(days=1)
        )
        night = timezone.now()
        with psycopg.connect(self.db_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s, %s)", [TALLY_LOCK_SPACE, self.tally_course_id])
            tally_all_courses.apply_async()
            terminated: list[int] = []
            for _ in range(2):
                pid = wait_until(
                    lambda: self.waiting_backend(holder.info.backend_pid, *terminated),
                    timeout=60,
                    what="the tally (or its retry) to wait",
                )
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                terminated.append(pid)
            holder.execute("SELECT pg_advisory_unlock(%s, %s)", [TALLY_LOCK_SPACE, self.tally_course_id])
        from notifications.models import JobRun

        note = f"{len(terminated)} sessions terminated"
        try:
            wait_until(
                lambda: JobRun.objects.filter(
                    job="tally_all_courses", error="", finished_at__isnull=False
                ).exists(),
                timeout=120,
                what="the tally to be retried",
            )
        except TimeoutError as exc:
            note += f"; {exc}"
        after = self.tallies()
        # Stale: not written by the retried run, or not what a clean run writes.
        stale = sum(
            1
            for key, values in fresh.items()
            if key not in after or after[key][:-1] != values[:-1] or after[key][-1] < night
        )
        runs = JobRun.objects.filter(job="tally_all_courses")
        note += f"; {runs.exclude(error='').count()} runs aborted, then retried"
        outcome = Outcome(name, len(fresh), len(fresh) - stale, 0, stale, True, note)
        say(f"  {len(fresh)} tallies, {stale} stale in {time.monotonic() - started:.0f} s ({note})")
        self.outcomes.append(outcome)
        return outcome

    def import_scenario(self, rows: int = 30_000) -> Outcome:
        """A GIAS import whose worker child is killed during its load (the one transaction at the
        end, made to wait on a table lock held here, so the kill lands there): the task handed
        back finds the killed child's session still holding the run, looks again, and takes the
        run over once that session ends, loading every row."""
        import psycopg
        from django.core.files.base import ContentFile

        from bench.imports import gias_file
        from funding.models import ImportRun, Institution
        from funding.tasks import run_import

        name = "kill -9 of the child running a GIAS import, during its load"
        say(f"scenario: {name}")
        self.reset()
        started = time.monotonic()
        Institution.objects.all().delete()
        path = Path(tempfile.mkdtemp(prefix="npq-chaos-gias-")) / "gias.csv"
        gias_file(path, rows)
        run = ImportRun(kind=ImportRun.Kind.GIAS)
        run.file.save("gias.csv", ContentFile(path.read_bytes()), save=True)
        note = ""
        with psycopg.connect(self.db_url) as holder:
            holder.execute("LOCK TABLE funding_institution IN SHARE MODE")
            task = run_import.delay(run.pk)
            try:
                wait_until(
                    lambda: self.waiting_backend(holder.info.backend_pid),
                    timeout=180,
                    what="the import's load",
                    every=0.2,
                )
                pid = self.running("funding.tasks.run_import")
                if pid:
                    kill9(pid)
                note = "the import's child killed during its load" if pid else "not killed"
                wait_until(
                    lambda: task.state == "RETRY", timeout=60, what="the task to look again", every=0.2
                )
                note += "; handed back, it looked again"
            except TimeoutError as exc:
                note += f"; {exc}"
            holder.rollback()
        try:
            wait_until(
                lambda: ImportRun.objects.get(pk=run.pk).status != "running",
                timeout=180,
                what="the import to finish",
                every=0.5,
            )
        except TimeoutError as exc:
            note += f"; {exc}"
        run.refresh_from_db()
        loaded = Institution.objects.filter(urn__gt=100000, urn__lte=100000 + rows).count()
        note += f"; ended {run.get_status_display().lower()} after {run.attempts} starts"
        outcome = Outcome(name, rows, loaded, 0, rows - loaded, True, note)
        say(f"  {loaded} of {rows} rows loaded in {time.monotonic() - started:.0f} s ({note})")
        self.outcomes.append(outcome)
        return outcome

    def tallies(self) -> dict:
        from engagement.models import EngagementTally

        return {
            row[0]: row[1:]
            for row in EngagementTally.objects.values_list(
                "participant_id", "done_weight", "due_weight", "percent", "on_track", "computed_at"
            )
        }

    def waiting_backend(self, *exclude: int) -> int | None:
        """A session of the trial database waiting on a lock (not this one, nor ``exclude``)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND NOT (pid = ANY(%s))",
                [list(exclude)],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    # --- The end ---------------------------------------------------------------------------------

    def count_left_running(self, *, idle: bool) -> None:
        """Job runs and imports still open once the sweeper has marked the runs whose worker died
        (as it does past the task time limit), before the next scenario clears them. Only when
        the workers are idle: an open run is then one whose worker was killed."""
        from django.conf import settings
        from django.utils import timezone

        from funding.models import ImportRun
        from notifications.models import JobRun
        from notifications.services import job_runs_close_abandoned

        if idle:
            self.closed += job_runs_close_abandoned(
                now=timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
            )
        self.jobs_running += JobRun.objects.filter(finished_at__isnull=True, error="").count()
        self.imports_running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).count()

    def report(self) -> bool:
        self.count_left_running(idle=self.quiet())
        jobs, imports, closed = self.jobs_running, self.imports_running, self.closed
        lines = [
            "",
            "| scenario | what happened | due | delivered | duplicated | lost |",
            "|---|---|---|---|---|---|",
        ]
        for o in self.outcomes:
            lines.append(f"| {o.scenario} | {o.note} | {o.due} | {o.delivered} | {o.duplicated} | {o.lost} |")
        duplicated = sum(o.duplicated for o in self.outcomes)
        mixed = [o.scenario for o in self.outcomes if not o.same_message_id]
        lines += [
            "",
            "(the tally: due = tallies, delivered = written fresh by the retried run, lost = stale;"
            " the import: due = rows in the file, delivered = rows loaded)",
            f"every duplicate carried its first copy's Message-ID: {'no, in ' + ', '.join(mixed) if mixed else 'yes'}"
            f" ({duplicated} duplicates)",
            f"imports/jobs left running: {imports + jobs} "
            f"({closed} runs whose worker was killed marked 'Did not finish' by the sweeper)",
        ]
        print("\n".join(lines), flush=True)
        return all(o.lost == 0 and o.same_message_id for o in self.outcomes) and imports + jobs == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=700, help="reminders due in each scenario")
    parser.add_argument("--logs", type=Path, default=None, help="a folder for the workers' logs")
    parser.add_argument(
        "--only", action="append", default=[], help="run only the scenarios whose name contains this"
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep the trial database, and use the one kept by an earlier run (no migrating)",
    )
    args = parser.parse_args()
    if not RedisServer.available():
        sys.exit("make chaos needs redis-server (Debian: apt-get install redis-server)")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="npq-chaos-"))
    logs.mkdir(parents=True, exist_ok=True)
    trial = Trial(reminders=args.reminders, logs=logs)
    began = time.monotonic()
    # The broker last: after Redis restarts, the workers no longer answer Celery's remote
    # control, which the kills use to find the child running the job or the import.
    scenarios = [
        ("no fault", trial.no_fault),
        ("kill -9 of worker children during sends", trial.kill_children_during_sends),
        ("kill -9 of the child running the job", trial.kill_the_job),
        ("kill -9 of the child running a GIAS import, during its load", None),
        ("SMTP down", trial.smtp_down),
        ("pg_terminate_backend during the job", trial.terminate_during_job),
        ("pg_terminate_backend during the nightly tally", None),
        ("broker (Redis) down", trial.broker_down),
    ]
    chosen = [(n, f) for n, f in scenarios if not args.only or any(o in n for o in args.only)]
    ok = False
    try:
        trial.start(reuse=args.keep_database and trial.database_exists())
        for name, fault in chosen:
            if fault is None:
                (trial.tally_scenario if "tally" in name else trial.import_scenario)()
            else:
                trial.scenario(name, fault)
        ok = trial.report()
    finally:
        trial.stop(keep_database=args.keep_database)
    say(f"done in {time.monotonic() - began:.0f} s; workers' logs in {logs}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
