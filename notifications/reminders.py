"""The notifications app's own scheduled job: the outbox sweeper.

Each app's jobs live in its ``reminders.py`` beside the rules they follow (applications,
assessment, dfe, ...), registered by name with ``register_job`` (jobs.py). Each takes ``today``
(so tests can drive it) and returns how many it sent. Every reminder goes through ``notify``
with a key naming its occasion, so a job that runs twice, late, or at the same time as itself
sends nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from .jobs import job_runs_close_abandoned, register_job
from .models import JobRun
from .services import notifications_sweep


@register_job("resend_stuck")
def resend_stuck(today: date) -> int:
    """Every minute: the outbox sweeper (services.notifications_sweep); also marks job runs whose
    worker died as not finished. Its own quiet runs are kept for two days (the jobs page and
    /healthz need only the latest); runs that did something, or failed, are kept like any job's."""
    JobRun.objects.filter(
        job="resend_stuck", sent=0, error="", finished_at__lt=timezone.now() - timedelta(days=2)
    ).delete()
    job_runs_close_abandoned()
    return notifications_sweep()
