"""Health of the portal's dependencies and scheduled jobs, for load balancers and operators.

/healthz answers 503 when the database or the broker fails, or (with HEALTHZ_CHECK_JOBS on,
the default when a broker is configured) when a job of CELERY_BEAT_SCHEDULE has not finished a
run within its threshold: the longest gap its schedule allows plus that gap again, capped at
two hours of slack, and never less than an hour (daily 26 h, hourly 2 h, every 15 minutes 1 h).
A job with no successful run yet is "never run" and healthy until its threshold has passed since
this process started (a deployment restarts it); see docs/decisions.md. It reads one query (one index probe per job), and
shows job names and times only, never a run's error text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from celery.schedules import crontab
from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.db import connection
from django.db.models import Subquery
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app

# When this web process started: the reference for a job that has never run.
STARTED_AT = timezone.now()
REMINDER_TASK = "notifications.tasks.run_scheduled_job"
MAX_SLACK = timedelta(hours=2)
MIN_THRESHOLD = timedelta(hours=1)
WEEK_MINUTES = 7 * 24 * 60


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; the message says which
        return f"error: {exc.__class__.__name__}"
    return "ok"


def broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"  # no broker configured: tasks run in the web process
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure means "not healthy"; the message says which
        return f"error: {exc.__class__.__name__}"
    return "ok"


# --- Scheduled jobs -----------------------------------------------------------------------------


def recorded_name(entry: dict[str, Any]) -> str:
    """The name a beat entry's runs are recorded under (JobRun.job): a reminder job's own name,
    otherwise the task's function name (the nightly tasks record themselves so)."""
    if entry["task"] == REMINDER_TASK:
        return entry["args"][0]
    return entry["task"].rsplit(".", 1)[-1]


def longest_gap(every: Any) -> timedelta:
    """The longest time a schedule leaves between two runs (local wall-clock time)."""
    if isinstance(every, timedelta):
        return every
    if isinstance(every, int | float):
        return timedelta(seconds=every)
    if isinstance(every, crontab):
        if len(every.day_of_month) < 31 or len(every.month_of_year) < 12:
            return timedelta(days=31)  # monthly or rarer: not worth a calendar walk
        # Cron weekdays count from Sunday (0); minutes of the week at which the job is due.
        due = sorted(
            ((day * 24 + hour) * 60 + minute)
            for day in every.day_of_week
            for hour in every.hour
            for minute in every.minute
        )
        gaps = [after - before for before, after in pairwise(due)]
        gaps.append(due[0] + WEEK_MINUTES - due[-1])  # round the end of the week
        return timedelta(minutes=max(gaps))
    if isinstance(every, interval_schedule):
        return every.run_every
    raise TypeError(f"Cannot tell how often {every!r} runs")


def stale_after(every: Any) -> timedelta:
    gap = longest_gap(every)
    return max(gap + min(gap, MAX_SLACK), MIN_THRESHOLD)


def jobs_status(*, now: datetime) -> dict[str, dict[str, Any]]:
    """Each beat entry's last successful run and whether it is overdue (one query)."""
    from notifications.models import JobRun

    entries = {name: (recorded_name(entry), entry) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    jobs = sorted({job for job, _ in entries.values()})
    # One row carrying one subquery per job, each answered from the partial index
    # jobrun_last_success_idx, so the cost does not grow with the history kept. (A GROUP BY
    # would read every run ever recorded.) No row at all: no job has ever run.
    latest = {
        f"job_{i}": Subquery(
            JobRun.objects.filter(job=job, finished_at__isnull=False, skipped_overlap=False, error="")
            .order_by("-finished_at")
            .values("finished_at")[:1]
        )
        for i, job in enumerate(jobs)
    }
    row = JobRun.objects.order_by().annotate(**latest).values_list(*latest).first() or [None] * len(jobs)
    last_success = dict(zip(jobs, row, strict=True))
    report = {}
    for name, (job, entry) in entries.items():
        threshold = stale_after(entry["schedule"])
        last = last_success.get(job)
        if last is None:
            status = "never run" if now - STARTED_AT <= threshold else "stale"
        else:
            status = "ok" if now - last <= threshold else "stale"
        report[name] = {
            "status": status,
            "last_success": last.isoformat() if last else None,
            "stale_after_hours": round(threshold / timedelta(hours=1), 2),
        }
    return report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    if settings.HEALTHZ_CHECK_JOBS and checks["database"] == "ok":
        try:
            jobs = jobs_status(now=timezone.now())
        except Exception as exc:  # the database went away between the two checks
            checks["jobs"] = f"error: {exc.__class__.__name__}"
            healthy = False
        else:
            stale = sorted(name for name, job in jobs.items() if job["status"] == "stale")
            checks.update(jobs=jobs, stale_jobs=stale)
            healthy = healthy and not stale
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
