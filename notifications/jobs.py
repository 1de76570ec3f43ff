"""Scheduled jobs: registered by name, run one at a time, each run recorded (``JobRun``).

A job is a function of ``today`` that returns how many notifications it recorded. Each app
registers its jobs in its ``reminders.py`` with ``@register_job("name")``; those modules are
imported when the notifications app is ready (``NotificationsConfig.ready``, like admin's
autodiscovery), so this app never names the apps whose jobs it runs. Beat names the job in
``CELERY_BEAT_SCHEDULE`` (``notifications.tasks.run_scheduled_job`` with the job's name), and
``run_job`` runs it under the job's lock, recording when, how long, how many and any error.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .models import JobRun

logger = logging.getLogger(__name__)

Job = Callable[[date], int]

# Every registered job by name (filled as the apps' reminders.py are imported).
JOBS: dict[str, Job] = {}

# The JobRun of the scheduled job running in this context: notify counts its rows on it.
current_run: ContextVar[int | None] = ContextVar("notifications_current_run", default=None)


class UnknownJob(KeyError):
    """No job is registered under this name (a KeyError, as looking it up always raised)."""


def register(name: str, job: Job) -> Job:
    """Register ``job`` under ``name``. A name is one job: registering another under it fails."""
    if JOBS.get(name, job) is not job:
        raise ValueError(f"A scheduled job named {name!r} is registered already: {JOBS[name]!r}")
    JOBS[name] = job
    return job


def register_job(name: str) -> Callable[[Job], Job]:
    """Decorator: ``@register_job("endorsement_chasers")`` over a function of ``today``."""

    def decorate(job: Job) -> Job:
        return register(name, job)

    return decorate


def job_named(name: str) -> Job:
    """The job registered under ``name``; UnknownJob (a KeyError) if there is none."""
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(
            f"No scheduled job is registered as {name!r} (registered: {', '.join(sorted(JOBS))})"
        ) from None


# Celery options for the tasks that run jobs and deliveries: retried with backoff when the
# database or the broker is away (a restart, a failover, a terminated connection), up to 6 more
# tries over about 25 minutes (full jitter; TASK_RETRY_BACKOFF_SECONDS is the first wait). What a
# run records is keyed or claimed, so a retry continues the work rather than repeating it.
RETRY_ON_OUTAGE: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError, BrokerError),
    "retry_backoff": settings.TASK_RETRY_BACKOFF_SECONDS,
    "retry_backoff_max": 600,
    "max_retries": 6,
}


@contextmanager
def job_lock(name: str):
    """Yield True if this run holds the job's lock, False if another run of the job holds it."""
    if connection.vendor == "postgresql":
        key = (7001 << 32) | zlib.crc32(name.encode())  # one 64-bit key: namespace, then the job
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    lock = f"job-lock:{name}"
    held = cache.add(lock, True, timeout=3600)
    try:
        yield held
    finally:
        if held:
            cache.delete(lock)


def run_job(name: str, job: Callable[[date], int], today: date | None = None) -> JobRun:
    """Run a scheduled job once at a time, recording when, how long, how many sent and any error.

    Notifications are counted on the run as they are recorded (in their own transaction), so a
    run that aborts still shows what it recorded; a retry records only what is left."""
    today = today or timezone.localdate()
    run = JobRun.objects.create(job=name, started_at=timezone.now())
    with job_lock(name) as held:
        if not held:
            run.skipped_overlap, run.finished_at = True, timezone.now()
        else:
            token = current_run.set(run.pk)
            try:
                run.sent = job(today)
            except Exception as exc:  # recorded for the jobs page, then raised for Celery (retry)
                _record_abort(run, exc)
                raise
            finally:
                current_run.reset(token)
            run.finished_at = timezone.now()
        # Not save(): `sent` may have been counted in the database meanwhile.
        JobRun.objects.filter(pk=run.pk).update(
            sent=run.sent, skipped_overlap=run.skipped_overlap, finished_at=run.finished_at
        )
    return run


def job_runs_close_abandoned(*, now: datetime | None = None) -> int:
    """Runs still open past the task time limit died with their worker (a run past it is killed):
    say so rather than show them running for ever. Called by the sweeper."""
    now = now or timezone.now()
    return JobRun.objects.filter(
        finished_at__isnull=True,
        error="",
        started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    ).update(error="Did not finish: its worker stopped or lost the database")


def _record_abort(run: JobRun, exc: Exception) -> None:
    """Record the error on the run; the count recorded so far stays. If the database connection
    is the casualty, try once more on a fresh one; if that fails too, the log has it."""
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    for last_try in (False, True):
        try:
            JobRun.objects.filter(pk=run.pk).update(error=error, finished_at=timezone.now())
            return
        except DatabaseError:
            if last_try or connection.in_atomic_block:
                logger.warning("Could not record the error of job run %s: %s", run.pk, error)
                return
            connection.close()
