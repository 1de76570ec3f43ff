"""Each kind's schedule: its model, the path to its hub, when its rows are due and what is done
to them; and the cutoff a rule's period gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from ..kinds import KINDS
from ..models import RetentionRule
from .actions import (
    _anonymise_applications,
    _anonymise_endorsements,
    _clear_import_files,
    _delete,
    _delete_attendance,
    _erase_people,
    _expire_exports,
)
from .conditions import (
    _access_log,
    _assessment_scripts,
    _attendance,
    _closed_applications,
    _endorsements,
    _import_files,
    _inactive_accounts,
    _job_runs,
    _notifications,
    _participants,
    _sessions,
    _subject_access_exports,
    _unfinished_applications,
)


def before(now: datetime, period: int, unit: str) -> datetime:
    """``now`` less the period (months and years by the calendar, clamped to a month's end)."""
    from programmes.services import add_months

    if unit == RetentionRule.Unit.DAYS:
        return now - timedelta(days=period)
    months = period * 12 if unit == RetentionRule.Unit.YEARS else period
    local = timezone.localtime(now)
    day = add_months(local.date(), -months)
    return local.replace(year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class Schedule:
    """How one kind of record becomes due, and what is done to it."""

    kind: str
    model: Callable[[], type[models.Model]]
    hub_path: str | None
    due: Callable[[datetime, datetime], models.QuerySet]  # (cutoff, now) -> rows due
    apply: Callable[[list[int]], tuple[int, list[str]]]  # pks -> (records done, files to delete)


def _model(label: str) -> Callable[[], type[models.Model]]:
    def get() -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(label)

    return get


SCHEDULES: dict[str, Schedule] = {
    s.kind: s
    for s in (
        Schedule(
            "unfinished_applications",
            _model("applications.Application"),
            "cohort__hub",
            _unfinished_applications,
            _delete("applications.Application"),
        ),
        Schedule(
            "closed_applications",
            _model("applications.Application"),
            "cohort__hub",
            _closed_applications,
            _anonymise_applications,
        ),
        Schedule(
            "endorsements",
            _model("applications.Endorsement"),
            "application__cohort__hub",
            _endorsements,
            _anonymise_endorsements,
        ),
        Schedule(
            "assessment_scripts",
            _model("assessment.Submission"),
            "entry__window__course__cohort__hub",
            _assessment_scripts,
            _delete("assessment.Submission"),
        ),
        Schedule(
            "attendance",
            _model("engagement.Attendance"),
            "activity__course__cohort__hub",
            _attendance,
            _delete_attendance,
        ),
        Schedule(
            "participants",
            _model("programmes.Participant"),
            "course__cohort__hub",
            _participants,
            _erase_people,
        ),
        Schedule("inactive_accounts", _model("accounts.User"), None, _inactive_accounts, _erase_people),
        Schedule(
            "notifications",
            _model("notifications.Notification"),
            None,
            _notifications,
            _delete("notifications.Notification"),
        ),
        Schedule("import_files", _model("funding.ImportRun"), None, _import_files, _clear_import_files),
        Schedule(
            "subject_access_exports",
            _model("privacy.SubjectAccessExport"),
            None,
            _subject_access_exports,
            _expire_exports,
        ),
        Schedule(
            "access_log",
            _model("privacy.AccessLogEntry"),
            "hub",
            _access_log,
            _delete("privacy.AccessLogEntry"),
        ),
        Schedule("sessions", _model("sessions.Session"), None, _sessions, _delete("sessions.Session")),
        Schedule(
            "job_runs", _model("notifications.JobRun"), None, _job_runs, _delete("notifications.JobRun")
        ),
    )
}
FILE_KIND = "uploaded_files"
assert set(SCHEDULES) | {FILE_KIND} == set(KINDS), "every kind of privacy/kinds.py has a schedule"
