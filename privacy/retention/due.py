"""Which rows are due now: the portal's rule for every hub without its own, each hub's own rule
for its rows; people all of whose enrolments are over; uploaded files no record names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q

from ..models import ErasureRecord, RetentionRule, SubjectAccessExport
from .schedule import FILE_KIND, SCHEDULES, before

# Folders of uploads that belong to a record; a file there no record names is an orphan.
UPLOAD_FOLDERS = ("submissions", "subject-access")


def rows_due(kind: str, now: datetime, rules: list[RetentionRule] | None = None) -> models.QuerySet:
    """The rows of ``kind`` due to go at ``now``: the portal's rule for every hub without its
    own, each hub's own rule for its rows."""
    schedule = SCHEDULES[kind]
    model = schedule.model()
    if rules is None:
        rules = list(RetentionRule.objects.filter(enabled=True))
    rules = [r for r in rules if r.kind == kind and r.enabled]
    default = next((r for r in rules if r.hub_id is None), None)
    hub_rules = [r for r in rules if r.hub_id is not None] if schedule.hub_path else []
    overridden = RetentionRule.objects.filter(kind=kind, hub__isnull=False).values("hub_id")
    due = Q(pk__in=[])
    if default is not None:
        rows = schedule.due(before(now, default.period, default.unit), now)
        if schedule.hub_path:
            rows = rows.exclude(**{f"{schedule.hub_path}__in": overridden})
        due |= Q(pk__in=rows.values("pk"))
    for rule in hub_rules:
        rows = schedule.due(before(now, rule.period, rule.unit), now).filter(
            **{schedule.hub_path: rule.hub_id}
        )
        due |= Q(pk__in=rows.values("pk"))
    return model._default_manager.filter(due)


def people_due(now: datetime, rules: list[RetentionRule] | None = None) -> models.QuerySet:
    """People whose every enrolment has been over for its hub's period, with nothing open:
    no live enrolment, no application still in progress, no staff role, not erased already."""
    from accounts.models import User
    from applications.models import Application
    from programmes.models import Participant

    over = rows_due("participants", now, rules).values("pk")
    return (
        User.objects.filter(enrolments__in=over, is_staff=False, is_superuser=False)
        .exclude(enrolments__in=Participant.objects.exclude(pk__in=over))
        .exclude(applications__status__in=Application.OPEN_STATUSES)
        .exclude(pk__in=ErasureRecord.objects.values("account_id"))
        .distinct()
    )


def orphan_files_due(now: datetime, rules: list[RetentionRule] | None = None) -> list[str]:
    """Uploaded files no record names, written before the period."""
    if rules is None:
        rules = list(RetentionRule.objects.filter(enabled=True))
    rule = next((r for r in rules if r.kind == FILE_KIND and r.hub_id is None and r.enabled), None)
    if rule is None:
        return []
    cutoff = before(now, rule.period, rule.unit)
    from assessment.models import Submission

    named = set(Submission.objects.exclude(file="").values_list("file", flat=True))
    named |= set(SubjectAccessExport.objects.exclude(file="").values_list("file", flat=True))
    due = []
    for name in _stored_files():
        if name in named:
            continue
        try:
            written = default_storage.get_modified_time(name)
        except (OSError, NotImplementedError):
            continue
        if written < cutoff:
            due.append(name)
    return due


def _stored_files() -> Iterator[str]:
    def walk(folder: str) -> Iterator[str]:
        try:
            folders, files = default_storage.listdir(folder)
        except (FileNotFoundError, NotImplementedError):
            return
        for name in files:
            yield f"{folder}/{name}"
        for sub in folders:
            yield from walk(f"{folder}/{sub}")

    for folder in UPLOAD_FOLDERS:
        yield from walk(folder)


def due_count(kind: str, now: datetime, rules: list[RetentionRule] | None = None) -> int:
    if kind == FILE_KIND:
        return len(orphan_files_due(now, rules))
    if kind == "participants":
        return people_due(now, rules).count()
    return rows_due(kind, now, rules).count()
