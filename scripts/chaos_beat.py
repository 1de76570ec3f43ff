"""Celery beat for `make chaos`: the portal's outbox sweeper (the `resend_stuck` job, every minute
in CELERY_BEAT_SCHEDULE) every CHAOS_SWEEP_SECONDS instead, so that a trial of a few minutes
sees it run often. Everything else comes from the portal's settings and environment."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npq_portal.settings")

import django

django.setup()

from npq_portal.celery import app  # noqa: E402

app.conf.beat_schedule = {
    "resend-stuck-notifications": {
        "task": "notifications.tasks.run_scheduled_job",
        "args": ["resend_stuck"],
        "schedule": float(os.environ.get("CHAOS_SWEEP_SECONDS", "2")),
    }
}
schedule = Path(tempfile.mkdtemp(prefix="npq-chaos-beat-")) / "schedule"
app.Beat(schedule=str(schedule), loglevel=os.environ.get("LOG_LEVEL", "WARNING")).run()
