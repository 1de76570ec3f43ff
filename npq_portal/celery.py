"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npq_portal.settings")

app = Celery("npq_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="npq_portal.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by /healthz tests and operators: returns its argument."""
    return value
