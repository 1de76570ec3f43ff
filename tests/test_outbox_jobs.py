"""Jobs retried after database and broker errors (the outbox itself: test_outbox.py).

Jobs and the nightly tally are retried and continue where they stopped, and a run that aborts
still shows what it recorded; the sweeper is a job like the others.
"""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from notifications import jobs, reminders, services
from notifications.models import JobRun, Notification
from notifications.services import job_runs_close_abandoned, notify, run_job
from notifications.tasks import run_scheduled_job
from tests.factories import ApplicationFactory
from tests.test_outbox import START, _broker_not_paused, at, record, status_of  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


# --- Jobs: retried, resumed, counted --------------------------------------------------------------


@pytest.fixture
def celery_retries():
    """Eager tasks retry at once; a task's failure is its result (not raised) at every level."""
    from npq_portal.celery import app

    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


@pytest.fixture
def drafts_on_day_4():
    with at(START):
        drafts = [ApplicationFactory(answers={"in_england": "yes"}) for _ in range(5)]
    return drafts, START + timedelta(days=2, hours=16)


def test_a_job_that_loses_the_database_mid_run_is_retried_and_sends_each_reminder_once(
    drafts_on_day_4, celery_retries, monkeypatch, django_capture_on_commit_callbacks
):
    drafts, day4 = drafts_on_day_4
    calls = []

    def notify_until_the_database_goes(**kwargs):
        calls.append(kwargs["recipient"])
        if len(calls) == 3:
            raise OperationalError("terminating connection due to administrator command")
        return notify(**kwargs)

    monkeypatch.setattr(services, "notify", notify_until_the_database_goes)  # as notify_once finds it
    with at(day4), django_capture_on_commit_callbacks(execute=True):
        result = run_scheduled_job.apply(args=["registration_deadline"])  # Celery retries it
    assert result.successful() and result.get() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(d.user.email for d in drafts)  # each once
    assert Notification.objects.filter(status="sent").count() == 5
    aborted, retried = JobRun.objects.filter(job="registration_deadline").order_by("pk")
    assert (aborted.sent, retried.sent) == (2, 3)  # the aborted run shows what it recorded
    assert aborted.error.startswith("OperationalError: terminating connection")
    assert retried.error == "" and retried.finished_at is not None


def test_an_aborted_run_counts_what_it_recorded(django_capture_on_commit_callbacks):
    def records_two_then_breaks(today):
        record(2)
        raise RuntimeError("disk full")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        run_job("engagement_at_risk", records_two_then_breaks)
    run = JobRun.objects.get(job="engagement_at_risk")
    assert (run.sent, run.error) == (2, "RuntimeError: disk full") and run.finished_at is not None


def test_a_run_whose_worker_died_is_marked_as_not_finished(settings):
    with at(START):
        dead = JobRun.objects.create(job="marking_due", started_at=timezone.now())
    with at(START + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)):
        assert job_runs_close_abandoned() == 0  # it might still be running
    with at(START + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)):
        assert job_runs_close_abandoned() == 1
    dead.refresh_from_db()
    assert dead.finished_at is None and dead.error.startswith("Did not finish")


def test_the_sweeper_is_a_job_run_every_minute(settings):
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["resend-stuck-notifications"]
    assert entry["args"] == ["resend_stuck"] and entry["schedule"] == crontab()
    assert jobs.JOBS["resend_stuck"] is reminders.resend_stuck


def test_the_nightly_tally_is_retried_after_a_database_error(celery_retries, monkeypatch):
    from engagement import tasks
    from tests.factories import ParticipantFactory

    ParticipantFactory()
    ParticipantFactory()
    real = tasks.tally_courses
    calls = []

    def tally_once_the_database_is_back(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(tasks, "tally_courses", tally_once_the_database_is_back)
    result = tasks.tally_all_courses.apply(args=[date(2025, 11, 5).isoformat()])
    assert result.successful() and len(calls) == 2
    failed, succeeded = JobRun.objects.filter(job="tally_all_courses").order_by("pk")
    assert failed.error.startswith("OperationalError") and succeeded.error == ""
    assert succeeded.sent == result.get()


def test_tasks_give_up_retrying_after_their_limit(celery_retries, monkeypatch):
    def always_down(today):
        raise OperationalError("the database is down")

    monkeypatch.setitem(jobs.JOBS, "marking_due", always_down)
    result = run_scheduled_job.apply(args=["marking_due"])
    assert result.failed() and isinstance(result.result, OperationalError)
    assert JobRun.objects.filter(job="marking_due").count() == 1 + run_scheduled_job.max_retries


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sends_what_the_broker_never_got(celery_worker_process, monkeypatch):
    monkeypatch.setattr(services, "queue_delivery", lambda *args, **kwargs: False)  # the broker was down
    notifications = record(3)
    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    queue = celery_worker_process["queue"]
    assert run_scheduled_job.apply_async(args=["resend_stuck"], queue=queue).get(timeout=60) == 3
    # One worker takes its queue in order: once this second sweep is done, so are the deliveries.
    assert run_scheduled_job.apply_async(args=["resend_stuck"], queue=queue).get(timeout=60) == 0
    assert [status_of(n) for n in notifications] == ["sent"] * 3
    assert [n.attempts for n in notifications] == [1, 1, 1]
