"""Notifications is the ground floor: it records, sends, retries and runs jobs by name, and names
no domain app. Each app registers its jobs in its own reminders.py (notifications/jobs.py)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from notifications import jobs
from notifications.tasks import run_scheduled_job

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = frozenset({"applications", "programmes", "engagement", "assessment", "funding", "dfe"})
# What notifications imports from outside itself must stand on the ground floor too.
GROUND_FLOOR = [*sorted((ROOT / "notifications").rglob("*.py")), ROOT / "common" / "personal_data.py"]


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every absolute import in the file (at any depth, lazy ones too)."""
    packages = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            packages.add(node.module.split(".")[0])
    return packages


def scheduled_job_names() -> list[str]:
    return [
        entry["args"][0]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == run_scheduled_job.name
    ]


def test_every_job_beat_runs_by_name_is_registered():
    names = scheduled_job_names()
    assert names  # the reminders run this way
    missing = [name for name in names if name not in jobs.JOBS]
    assert missing == []
    assert all(callable(jobs.job_named(name)) for name in names)


def test_the_ground_floor_jobs_stay_in_notifications():
    from notifications.reminders import resend_stuck

    assert jobs.JOBS["resend_stuck"] is resend_stuck


@pytest.mark.parametrize("path", GROUND_FLOOR, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_ground_floor_imports_no_domain_app(path):
    assert imported_packages(path) & DOMAIN_APPS == set()


def test_an_unknown_job_fails_clearly():
    with pytest.raises(KeyError, match="No scheduled job is registered as 'no_such_job'"):
        jobs.job_named("no_such_job")
    with pytest.raises(jobs.UnknownJob):
        run_scheduled_job.apply(args=["no_such_job"])


def test_a_name_is_one_job(monkeypatch):
    monkeypatch.setattr(jobs, "JOBS", {})

    @jobs.register_job("sample")
    def sample(today):
        return 0

    assert {"sample": sample} == jobs.JOBS
    assert jobs.register("sample", sample) is sample  # the same job again: nothing changes
    with pytest.raises(ValueError, match="'sample' is registered already"):
        jobs.register("sample", lambda today: 1)
