"""Imports never half-load, never empty a list by accident and never stay "running" forever.

Each test pins one fault found in running the imports: a worker killed mid-way, runs left
running, running them again, and a live worker's lock on PostgreSQL.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from funding.imports import gias, import_gias, import_run_execute, import_runs_fail_stale, runs
from funding.imports import outcome as outcome_module
from funding.models import ImportRun, Institution
from tests.conftest import need
from tests.factories import UserFactory
from tests.funding_import_support import GIAS, START, gias_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


# --- A worker stopped mid-way ---------------------------------------------------------------------


def test_an_error_in_the_middle_of_a_gias_load_leaves_the_previous_data(monkeypatch):
    import_gias(GIAS)
    before = list(Institution.objects.order_by("urn").values())
    written = []
    real = gias._load_staged

    def killed_after_writing(outcome, loading):
        real(outcome, loading)
        written.append(Institution.objects.filter(name__contains="Academy").count())
        raise RuntimeError("worker killed")

    monkeypatch.setattr(gias, "STAGE_ROWS", 2)  # staged in several pieces
    monkeypatch.setattr(gias, "_load_staged", killed_after_writing)
    renamed = GIAS.replace(b"School", b"Academy").replace(b"Nursery", b"Centre")
    run = import_run_execute(gias_run(renamed))
    assert written and written[0] > 1  # the rows were written, then the worker failed
    assert run.status == "failed"
    assert "unexpected error (RuntimeError)" in run.message and "Nothing was loaded" in run.message
    assert list(Institution.objects.order_by("urn").values()) == before


def test_a_file_staged_in_pieces_loads_and_counts_like_one(monkeypatch):
    monkeypatch.setattr(gias, "STAGE_ROWS", 2)
    assert import_gias(GIAS).created == 9
    renamed = GIAS.replace(b"Northfield Academy", b"Northfield Academy Trust")
    outcome = import_gias(renamed)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 8)
    assert Institution.objects.filter(name="Northfield Academy Trust").count() == 1
    assert import_gias(renamed).unchanged == 9


def test_a_soft_time_limit_fails_the_run_in_words(monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(gias, "_load_staged", too_slow)
    run = import_run_execute(gias_run(GIAS))
    assert run.status == "failed"
    assert run.message.startswith("The import took longer than the 240 seconds a worker allows")
    assert not Institution.objects.exists()


def test_a_file_gone_from_storage_fails_the_run_in_words():
    run = gias_run(GIAS)
    run.file.storage.delete(run.file.name)
    run = import_run_execute(run)
    assert run.status == "failed" and run.message.startswith("The uploaded file could not be read")


# --- Runs left running ----------------------------------------------------------------------------


def test_a_silent_running_run_is_failed_by_the_sweep(settings):
    settings.IMPORT_STALE_MINUTES = 10
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START)
    with time_machine.travel(START + timedelta(minutes=9), tick=False):
        assert import_runs_fail_stale() == 0
    run.refresh_from_db()
    assert run.status == "running"
    with time_machine.travel(START + timedelta(minutes=11), tick=False):
        assert import_runs_fail_stale() == 1
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at == START + timedelta(minutes=11)
    assert "last heard from more than 10 minutes ago" in run.message and "Run again" in run.message


def test_the_scheduled_sweep_is_recorded_as_a_job(settings):
    from funding.tasks import fail_stale_imports
    from notifications.models import JobRun

    assert settings.CELERY_BEAT_SCHEDULE["fail-stale-imports"]["task"] == "funding.tasks.fail_stale_imports"
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START)
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert fail_stale_imports.apply().get() == 1
    assert JobRun.objects.get(job="fail_stale_imports").sent == 1


def test_a_failed_run_can_be_run_again_from_admin(client, superuser, django_capture_on_commit_callbacks):
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(
        status="failed", message="The import stopped without finishing."
    )
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:funding_importrun_changelist"),
            {"action": "run_again", "_selected_action": [run.pk]},
            follow=True,
        )
    again = ImportRun.objects.get(rerun_of=run)
    assert f"Import queued again as #{again.pk}." in response.content.decode()
    assert again.status == "done" and again.file.name == run.file.name and again.started_by == superuser
    assert Institution.objects.count() == 9


def test_a_run_stuck_in_the_queue_is_sent_again_and_a_finished_one_left(
    client, superuser, django_capture_on_commit_callbacks
):
    queued, done = gias_run(GIAS), gias_run(GIAS)  # the broker lost the first one's message
    ImportRun.objects.filter(pk=done.pk).update(status="done")
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:funding_importrun_changelist"),
            {"action": "run_again", "_selected_action": [queued.pk, done.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert f"Import queued again as #{queued.pk}." in page
    assert "1 import was left as it is: only failed, cancelled or queued imports run again." in page
    queued.refresh_from_db()
    assert queued.status == "done" and ImportRun.objects.count() == 2


def test_a_run_checking_its_file_writes_progress_and_a_heartbeat(monkeypatch):
    monkeypatch.setattr(outcome_module, "PROGRESS_EVERY", 3)
    seen = []
    real = gias._load_staged

    def watch(outcome, loading):
        seen.append(ImportRun.objects.values_list("rows_done", "rows_total", "heartbeat_at", "message").get())
        real(outcome, loading)

    monkeypatch.setattr(gias, "_load_staged", watch)
    with time_machine.travel(START, tick=False):
        run = import_run_execute(gias_run(GIAS))
    assert seen == [(0, 9, START, "Loading 9 establishments, all or nothing.")]
    assert (run.status, run.rows_done, run.attempts, run.started_at) == ("done", 9, 1, START)


# PostgreSQL: a run's worker holds an advisory lock while it works, so "running" with the lock
# free means its worker is gone.


def other_session():
    import psycopg

    need(connection.vendor == "postgresql", "PostgreSQL")
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "localhost",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def test_a_run_whose_worker_is_alive_is_neither_swept_nor_taken_over(settings):
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START)
    with other_session() as worker:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [runs.IMPORT_LOCK_SPACE, run.pk])
        with time_machine.travel(START + timedelta(hours=1), tick=False):
            assert import_runs_fail_stale() == 0
            assert import_run_execute(run).status == "running"  # a second delivery does nothing
    assert not Institution.objects.exists()


def test_a_redelivered_task_takes_over_a_run_whose_worker_died():
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START, attempts=1)
    need(connection.vendor == "postgresql", "PostgreSQL")
    run = import_run_execute(run)
    assert (run.status, run.attempts, Institution.objects.count()) == ("done", 2, 9)


def test_a_run_whose_worker_keeps_dying_is_failed_not_restarted():
    need(connection.vendor == "postgresql", "PostgreSQL")
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", attempts=runs.MAX_ATTEMPTS)
    run = import_run_execute(run)
    assert run.status == "failed" and f"started {runs.MAX_ATTEMPTS} times" in run.message
    assert not Institution.objects.exists()
