"""Shared fixtures. In CI (CI=true) every service must be present: nothing is skipped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def need(available: bool, what: str) -> None:
    """Skip outside CI when a service is missing; in CI, fail loudly instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {what} is not available; start it (see /work/.library/env).")
    pytest.skip(f"{what} is not available here (it is required, and checked, in CI)")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not IN_CI:
        return
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL does not point at PostgreSQL")
    if not _reachable(REDIS_URL):
        problems.append(f"Redis is not reachable at {REDIS_URL}")
    if not Path(CHROMIUM).exists():
        problems.append(f"Chromium is not installed at {CHROMIUM}")
    if problems:
        pytest.exit("CI=true but: " + "; ".join(problems), returncode=1)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate limits live in the cache; every test starts with none counted.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_join_flag_cleared() -> Iterator[None]:
    yield
    # An eager task marks the whole process "inside a task" while it runs and puts the old value
    # back after (celery.result.denied_join_result): not thread-safe, so eager tasks run at once in
    # several threads (the concurrency tests) can leave it set, and a later test's result.get()
    # on a real worker would refuse to wait.
    from celery import _state

    _state._set_task_join_will_block(False)


@pytest.fixture
def redis_url() -> str:
    need(_reachable(REDIS_URL), f"Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def celery_workers(redis_url: str, django_db_setup) -> Iterator[Callable[[int], dict]]:
    """Start real ``celery worker`` processes on Redis, reading the test database.

    Returns a function ``start(n)``; the workers listen on a queue of their own (also their
    default queue, so tasks they queue stay among them), so parallel runs never mix.
    """
    queue = f"test-{uuid.uuid4().hex[:12]}"
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_ENV="test",
        DJANGO_SETTINGS_MODULE="npq_portal.settings_test",
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        CELERY_TASK_DEFAULT_QUEUE=queue,
    )
    if db["ENGINE"] == "django.db.backends.postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    workers: list[subprocess.Popen] = []
    from npq_portal.celery import app

    conf = {"broker_url": redis_url, "result_backend": redis_url, "task_always_eager": False}
    saved = {key: app.conf[key] for key in conf}
    app.conf.update(conf)
    reset_celery_connections(app)

    def start(count: int = 1) -> dict:
        for _ in range(count):
            name = f"{queue}-{len(workers)}@%h"
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "npq_portal",
                        "worker",
                        "--pool=solo",
                        "--concurrency=1",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "-Q",
                        queue,
                        "-n",
                        name,
                        "--loglevel=WARNING",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return {"queue": queue, "app": app, "processes": workers}

    try:
        yield start
    finally:
        app.conf.update(saved)
        reset_celery_connections(app)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()


@pytest.fixture
def celery_worker_process(celery_workers) -> dict:
    """One real worker (see ``celery_workers``)."""
    return celery_workers(1)


def reset_celery_connections(app) -> None:
    """Forget the client's pooled connections and result backend after changing broker settings."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def chromium_path() -> str:
    need(Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Before the test database is dropped, end sessions a live-server thread may still hold."""
    yield
    from django.db import connection
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    if connection.vendor != "postgresql":
        return
    # When no test used the database, pytest-django made no test database and the connection is
    # still on DATABASE_URL's own: ending its sessions would cut off anyone else using it.
    if not connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
