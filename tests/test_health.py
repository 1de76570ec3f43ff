from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings

from npq_portal.health import recorded_name
from tests.conftest import reset_celery_connections


@pytest.mark.django_db
def test_healthz_reports_database_and_eager_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    from npq_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_celery_connections(app)
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved
        reset_celery_connections(app)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")


@pytest.mark.django_db
def test_healthz_reports_a_reachable_redis_broker(client, settings, redis_url):
    from npq_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.broker_url
    app.conf.broker_url = redis_url
    reset_celery_connections(app)
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved
        reset_celery_connections(app)
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    from npq_portal import health

    def broken_cursor():
        raise RuntimeError("database down")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: RuntimeError"


# --- Scheduled jobs ----------------------------------------------------------------------------

START = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)


def run_every_scheduled_job() -> None:
    """What beat does: queue each entry of CELERY_BEAT_SCHEDULE (here run in this process)."""
    from npq_portal.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        app.tasks[entry["task"]].apply(args=entry.get("args", ())).get()


def _entries_stale_after(threshold: timedelta) -> list[str]:
    from npq_portal.health import stale_after

    return sorted(
        name
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if stale_after(entry["schedule"]) == threshold
    )


@pytest.fixture
def checking_jobs(settings, monkeypatch):
    from npq_portal import health

    settings.HEALTHZ_CHECK_JOBS = True
    monkeypatch.setattr(health, "STARTED_AT", START)  # the deployment
    return settings


@pytest.mark.django_db
def test_a_stopped_beat_turns_healthz_unhealthy_and_fresh_runs_keep_it_healthy(client, checking_jobs):
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        run_every_scheduled_job()
    with time_machine.travel(START + timedelta(minutes=50), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["stale_jobs"] == []
    assert set(body["jobs"]) == set(settings.CELERY_BEAT_SCHEDULE)
    assert {job["status"] for job in body["jobs"].values()} == {"ok"}
    assert body["jobs"]["tally-engagement-nightly"]["last_success"] == "2025-10-20T09:05:00+00:00"

    # Beat stops: two days later every job but the weekly ones is overdue.
    with time_machine.travel(START + timedelta(days=2), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    weekly = {"engagement-at-risk-weekly", "checkins-overdue"}
    assert set(body["stale_jobs"]) == set(settings.CELERY_BEAT_SCHEDULE) - weekly
    assert body["jobs"]["tally-engagement-nightly"]["status"] == "stale"
    assert body["jobs"]["engagement-at-risk-weekly"]["status"] == "ok"

    # Beat is back: fresh runs make it healthy again.
    with time_machine.travel(START + timedelta(days=2, minutes=1), tick=False):
        run_every_scheduled_job()
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["stale_jobs"] == []


@pytest.mark.django_db
def test_each_job_is_stale_after_its_own_threshold(client, checking_jobs):
    from notifications.models import JobRun

    with time_machine.travel(START, tick=False):
        run_every_scheduled_job()
    # Every 5 or 15 minutes: stale after an hour; hourly: after two; daily: after 26 hours.
    frequent = _entries_stale_after(timedelta(hours=1))
    assert {"fail-stale-imports", "resend-stuck-notifications"} <= set(frequent)
    hourly_entries = _entries_stale_after(timedelta(hours=2))
    assert hourly_entries == ["assessment-closing", "endorsements-expire"]
    expected = [
        (timedelta(minutes=59), []),
        (timedelta(minutes=61), frequent),
        (timedelta(minutes=121), sorted([*hourly_entries, *frequent])),
    ]
    for after, stale in expected:
        with time_machine.travel(START + after, tick=False):
            assert client.get("/healthz").json()["stale_jobs"] == stale, after
    # The hourly and 15-minute jobs keep running; the nightly tally stops after its last run.
    hourly = [recorded_name(settings.CELERY_BEAT_SCHEDULE[name]) for name in [*hourly_entries, *frequent]]
    for after in (timedelta(hours=25, minutes=59), timedelta(hours=26, minutes=1)):
        JobRun.objects.bulk_create(
            JobRun(job=job, started_at=START + after, finished_at=START + after) for job in hourly
        )
    with time_machine.travel(START + timedelta(hours=25, minutes=59), tick=False):
        assert client.get("/healthz").status_code == 200
    with time_machine.travel(START + timedelta(hours=26, minutes=1), tick=False):
        body = client.get("/healthz").json()
    assert "tally-engagement-nightly" in body["stale_jobs"]
    assert body["jobs"]["tally-engagement-nightly"]["stale_after_hours"] == 26


def test_thresholds_follow_the_schedule():
    from npq_portal.health import stale_after

    assert stale_after(crontab(hour=1, minute=30)) == timedelta(hours=26)
    assert stale_after(crontab(minute=10)) == timedelta(hours=2)
    assert stale_after(crontab(minute="*/15")) == timedelta(hours=1)
    assert stale_after(crontab(day_of_week="mon", hour=7, minute=0)) == timedelta(days=7, hours=2)
    # Twice a day at uneven times: the longer gap (17 h) counts.
    assert stale_after(crontab(hour="7,14", minute=0)) == timedelta(hours=19)
    assert stale_after(timedelta(minutes=5)) == timedelta(hours=1)


@pytest.mark.django_db
def test_failed_and_overlapping_runs_are_not_successes(client, checking_jobs):
    from notifications.models import JobRun

    with time_machine.travel(START, tick=False):
        run_every_scheduled_job()
    later = START + timedelta(hours=25)
    JobRun.objects.create(
        job="tally_all_courses", started_at=later, finished_at=later, error="OperationalError: for x@y.org"
    )
    JobRun.objects.create(job="tally_all_courses", started_at=later, finished_at=later, skipped_overlap=True)
    JobRun.objects.create(job="tally_all_courses", started_at=later)  # still running
    with time_machine.travel(START + timedelta(hours=26, minutes=1), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert "tally-engagement-nightly" in response.json()["stale_jobs"]
    assert "OperationalError" not in response.content.decode()  # no run's error text, ever


@pytest.mark.django_db
def test_a_job_that_never_ran_is_healthy_only_within_its_threshold_of_the_deployment(client, checking_jobs):
    with time_machine.travel(START + timedelta(minutes=59), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert {job["status"] for job in response.json()["jobs"].values()} == {"never run"}
    assert response.json()["jobs"]["marking-due"]["last_success"] is None
    with time_machine.travel(START + timedelta(minutes=61), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["stale_jobs"] == _entries_stale_after(timedelta(hours=1))


@pytest.mark.django_db
def test_healthz_checking_jobs_takes_two_queries(client, checking_jobs, django_assert_num_queries):
    with time_machine.travel(START, tick=False):
        run_every_scheduled_job()
        with django_assert_num_queries(2):
            assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_jobs_are_not_checked_with_eager_tasks_unless_asked(client, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER and not settings.HEALTHZ_CHECK_JOBS
    with time_machine.travel(START + timedelta(days=30), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert "jobs" not in response.json()
