"""Faults with real processes: nothing is lost when a worker is killed mid-delivery or mid-job,
when the broker is killed and restarted, or when the database ends a worker's session.

Each test runs real prefork Celery workers (as production does) on Redis and the test database,
with mail going to an SMTP sink in this process that logs every message it accepts. The
sweeper is called here with the time it would run at, rather than waited for; a worker reaching
a state is waited for with a deadline. `make chaos` runs the longer trial (scripts/chaos.py).
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.models import JobRun, Notification
from notifications.services import job_runs_close_abandoned, notifications_sweep, notify
from notifications.tasks import run_scheduled_job
from tests.conftest import need, reset_celery_connections
from tests.factories import ApplicationFactory, CourseFactory, UserFactory
from tests.faults import (
    RedisServer,
    SmtpSink,
    children,
    kill9,
    start_worker,
    stop,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEADLINE = 60  # seconds for any one state to be reached on a busy two-core machine


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Portal:
    """Workers on one broker and a queue of their own; this process queues to the same queue."""

    def __init__(self, broker_url: str, sink: SmtpSink):
        from npq_portal.celery import app

        self.app, self.sink, self.broker_url = app, sink, broker_url
        self.queue = f"faults-{uuid.uuid4().hex[:12]}"
        self.workers: list = []
        keys = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
        self._saved = {key: app.conf[key] for key in keys}
        app.conf.update(
            broker_url=broker_url,
            result_backend=broker_url,
            task_always_eager=False,
            task_default_queue=self.queue,
        )
        reset_celery_connections(app)
        services._broker_paused_until = 0.0

    def start_worker(self):
        env = worker_env(
            database_url=database_url(),
            broker_url=self.broker_url,
            queue=self.queue,
            smtp_url=self.sink.url,
            TASK_RETRY_BACKOFF_SECONDS="1",  # a retry within a second or two, not half a minute
        )
        logs = os.environ.get("FAULT_LOGS")  # a folder for the workers' logs, when debugging
        log = Path(logs) / f"{self.queue}-{len(self.workers)}.log" if logs else None
        worker = start_worker(env, name=f"{self.queue}-{len(self.workers)}", log=log)
        self.workers.append(worker)
        from npq_portal.celery import ping

        assert ping.apply_async(args=["ready"]).get(timeout=DEADLINE) == "ready"
        return worker

    def close(self) -> None:
        for worker in self.workers:
            stop(worker, graceful=False)  # nothing in hand matters now
        self.app.conf.update(self._saved)
        reset_celery_connections(self.app)
        services._broker_paused_until = 0.0


@pytest.fixture
def sink():
    sink = SmtpSink()
    yield sink
    sink.close()


@pytest.fixture
def portal(redis_url, sink):
    portal = Portal(redis_url, sink)
    yield portal
    portal.close()


@pytest.fixture
def blocker():
    """A second database session, to hold a row lock that a worker will wait on."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "localhost",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    ) as session:
        yield session


def record(count: int) -> list[Notification]:
    """Notifications recorded and queued (after each commit) as the portal does."""
    rows = []
    for _ in range(count):
        user = UserFactory()
        rows.append(
            notify(
                kind="fault_test",
                recipient=user.email,
                user=user,
                about=user,
                occurrence="1",
                title="Hello",
                template="registration_deadline",
                context={"application": None, "deadline": timezone.now()},
            )
        )
    return rows


def message_ids(rows) -> list[str]:
    return [services.message_id(row) for row in rows]


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Notification.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def all_sent(count: int):
    return lambda: Notification.objects.filter(status="sent").count() == count


def sweep_until_due(**extra) -> int:
    """Run the sweeper as it would run once the claims of killed workers had expired and the
    rows taken back were due again: returns how many rows it queued."""
    claims = Notification.objects.filter(status="sending").values_list("claimed_until", flat=True)
    expired = max([*claims, timezone.now()]) + timedelta(seconds=1)
    notifications_sweep(now=expired)
    later = expired + services.retry_delay(1) + services.dispatch_grace() + timedelta(seconds=1)
    return notifications_sweep(now=later)


def drafts_due_today(count: int) -> list:
    """Applications started three days ago: day 4 of 5, reminded by `registration_deadline`,
    newest first (the job's order)."""
    course = CourseFactory()
    drafts = [ApplicationFactory(course=course) for _ in range(count)]
    started = timezone.now() - timedelta(days=3, hours=1)
    for position, draft in enumerate(drafts):
        type(draft).objects.filter(pk=draft.pk).update(started_at=started - timedelta(minutes=position))
    return drafts


def hold_reminder(session, draft) -> None:
    """Begin recording ``draft``'s reminder in another session and leave it uncommitted: a job
    that reaches the same key waits for this session."""
    session.execute(
        "INSERT INTO notifications_notification (kind, recipient, subject_type, subject_id, "
        "occurrence, title, body_text, body_html, link, status, attempts, last_error, created_at) "
        "VALUES ('registration_deadline', %s, 'applications.application', %s, %s, '', '', '', '', "
        "'pending', 0, '', now())",
        [draft.user.email.lower(), draft.pk, f"day-{settings.APPLICATION_COMPLETION_DAYS - 1}"],
    )


def backend_waiting_on_a_lock(exclude: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), %s)",
            [exclude],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# --- kill -9 ------------------------------------------------------------------------------------


def test_kill_9_of_worker_children_mid_delivery_loses_nothing(portal, sink):
    worker = portal.start_worker()
    before = sink.hold_next("before_accept")
    rows = record(6)  # each queued as it commits
    assert before.reached.wait(DEADLINE), "no delivery reached the mail server"
    (killed_before_acceptance,) = Notification.objects.filter(status="sending")
    (child,) = children(worker.pid)
    kill9(child)
    wait_until(lambda: child not in children(worker.pid), timeout=DEADLINE, what="the child to die")
    after = sink.hold_next("after_accept")
    before.release()  # the mail server sees the connection gone: nothing accepted
    # The worker starts another child, which takes the next delivery: accepted, then killed
    # before the portal records it.
    assert after.reached.wait(DEADLINE), "the worker did not start another child"
    killed_after_acceptance = Notification.objects.exclude(pk=killed_before_acceptance.pk).get(
        status="sending"
    )
    kill9(wait_until(lambda: children(worker.pid), timeout=DEADLINE, what="a child")[0])
    after.release()
    wait_until(all_sent(4), timeout=DEADLINE, what="the other four to be sent by the next child")

    # Both killed rows stay claimed until the claim expires; then the sweeper sends them again.
    assert Notification.objects.filter(status="sending").count() == 2
    # (The killed deliveries' own messages, handed back by the worker, may also reach a worker
    # after the sweeper has taken a row back: either way, each is sent once more.)
    sweep_until_due()
    wait_until(all_sent(6), timeout=DEADLINE, what="the two killed deliveries to be sent again")

    copies = sink.copies()
    assert set(copies) == set(message_ids(rows))  # none lost
    # The one duplicate is the message the mail server accepted just before its worker died:
    # sent again with the same Message-ID. The other killed one was never accepted.
    assert {mid: n for mid, n in copies.items() if n > 1} == {services.message_id(killed_after_acceptance): 2}
    for killed in (killed_before_acceptance, killed_after_acceptance):
        killed.refresh_from_db()
        assert (killed.status, killed.attempts) == ("sent", 2)


def test_kill_9_of_the_worker_child_mid_job_is_run_again_and_loses_nothing(portal, sink, blocker):
    drafts = drafts_due_today(10)
    worker = portal.start_worker()
    hold_reminder(blocker, drafts[5])  # the job stops at the sixth reminder
    run_scheduled_job.apply_async(args=["registration_deadline"])
    wait_until(
        lambda: backend_waiting_on_a_lock(blocker.info.backend_pid),
        timeout=DEADLINE,
        what="the job to reach the sixth reminder",
    )
    (killed_run,) = JobRun.objects.filter(job="registration_deadline")
    assert (killed_run.sent, killed_run.finished_at) == (5, None)
    kill9(children(worker.pid)[0])
    # The worker hands the killed job back to the queue. Its run again finds the job's lock
    # still held: the killed child's database session lives on, waiting, until its statement
    # ends. Handed back after a kill, the task does not skip the day but looks again shortly.
    wait_until(
        lambda: JobRun.objects.filter(job="registration_deadline", skipped_overlap=True).exists(),
        timeout=DEADLINE,
        what="the job run again to meet its killed run's lock",
    )
    blocker.rollback()  # the killed session's statement ends; it sees its client gone and ends
    wait_until(all_sent(10), timeout=DEADLINE, what="every reminder to be sent")
    rerun = wait_until(
        lambda: JobRun.objects.filter(
            job="registration_deadline", finished_at__isnull=False, skipped_overlap=False
        ).first(),
        timeout=DEADLINE,
        what="the run that took over to finish",
    )
    assert (rerun.sent, rerun.error) == (5, "")
    assert sorted(a.recipients[0] for a in sink.accepted) == sorted(d.user.email.lower() for d in drafts)
    assert max(sink.copies().values()) == 1
    # The killed run is shown as not finished once it is past the task time limit.
    later = timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
    assert job_runs_close_abandoned(now=later) == 1
    killed_run.refresh_from_db()
    assert killed_run.sent == 5 and killed_run.error.startswith("Did not finish")


def test_kill_9_of_the_worker_child_mid_import_is_taken_over_and_loads_every_row(portal, sink, blocker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from funding.models import ImportRun, Institution
    from funding.tasks import run_import

    worker = portal.start_worker()
    # The load (one transaction, at the end) waits for this session: the worker is killed there.
    blocker.execute("LOCK TABLE funding_institution IN SHARE MODE")
    gias = (Path(__file__).parent / "data" / "gias_sample.csv").read_bytes()
    run = ImportRun.objects.create(kind="gias", file=SimpleUploadedFile("gias.csv", gias))
    task = run_import.apply_async(args=[run.pk])
    wait_until(lambda: backend_waiting_on_a_lock(blocker.info.backend_pid), timeout=DEADLINE, what="the load")
    kill9(children(worker.pid)[0])
    # Handed back, the task finds the run held by the killed child's session (still waiting on
    # the lock, so still alive): it looks again shortly rather than leave the run running.
    wait_until(lambda: task.state == "RETRY", timeout=DEADLINE, what="the task to look again later")
    blocker.rollback()
    done = wait_until(
        lambda: ImportRun.objects.exclude(status="running").filter(pk=run.pk).first(),
        timeout=DEADLINE,
        what="the import to be taken over and finish",
    )
    assert (done.status, done.attempts) == ("done", 2)
    assert Institution.objects.count() == 9


# --- The broker ---------------------------------------------------------------------------------


@pytest.fixture
def own_redis():
    need(RedisServer.available(), "redis-server")
    redis = RedisServer().start()
    yield redis
    redis.close()


def test_a_broker_killed_and_restarted_loses_nothing(own_redis, sink):
    portal = Portal(own_redis.url, sink)
    try:
        portal.start_worker()
        busy = sink.hold_next("after_accept")  # the worker is busy: the rest wait in Redis
        queued = record(12)
        assert busy.reached.wait(DEADLINE)
        own_redis.kill()  # kill -9: what Redis had (AOF, fsync always) is all that survives
        while_down = record(4)  # refused by the broker: recorded, left for the sweeper
        assert statuses() == {"sending": 1, "pending": 15}
        busy.release()
        own_redis.start()  # the same port and data
        wait_until(all_sent(12), timeout=DEADLINE, what="the queued messages to be delivered")
        services._broker_paused_until = 0.0  # 30 s later this process asks the broker again
        assert sweep_until_due() == 4
        wait_until(all_sent(16), timeout=DEADLINE, what="the refused ones to be delivered")
        copies = sink.copies()
        assert set(copies) == set(message_ids(queued + while_down)) and max(copies.values()) == 1
    finally:
        portal.close()


# --- The database ending a worker's session ----------------------------------------------------


def test_terminated_database_sessions_are_retried_and_recorded(portal, sink, blocker):
    drafts = drafts_due_today(8)
    worker = portal.start_worker()
    hold_reminder(blocker, drafts[3])
    run_scheduled_job.apply_async(args=["registration_deadline"])
    waiting = wait_until(
        lambda: backend_waiting_on_a_lock(blocker.info.backend_pid),
        timeout=DEADLINE,
        what="the job to reach the fourth reminder",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [waiting])
    blocker.rollback()
    wait_until(all_sent(8), timeout=DEADLINE, what="every reminder to be sent")
    aborted, retried = wait_until(
        lambda: (
            (runs := list(JobRun.objects.filter(job="registration_deadline").order_by("pk")))
            and runs[-1].finished_at
            and runs
        ),
        timeout=DEADLINE,
        what="the retried run to finish",
    )
    assert aborted.sent == 3 and aborted.error.startswith("OperationalError")
    assert (retried.sent, retried.error) == (5, "")
    assert sorted(a.recipients[0] for a in sink.accepted) == sorted(d.user.email.lower() for d in drafts)

    # A session ended while the mail server talks: the send is recorded on a new session, not
    # left for the claim to expire (which would send it again).
    held = sink.hold_next("after_accept")
    (row,) = record(1)
    assert held.reached.wait(DEADLINE)
    (child,) = children(worker.pid)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid NOT IN (pg_backend_pid(), %s)",
            [blocker.info.backend_pid],
        )
    held.release()
    wait_until(all_sent(9), timeout=DEADLINE, what="the send to be recorded")
    row.refresh_from_db()
    assert row.attempts == 1 and sink.copies()[services.message_id(row)] == 1
    assert children(worker.pid) == [child]  # no worker died for it
