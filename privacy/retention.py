"""The retention schedule: which records are due to go, and what going means for each kind.

The periods are data (RetentionRule, seeded from privacy/kinds.py and edited in admin); a hub's
own rule replaces the portal's for that hub's records. The nightly job (privacy.tasks) takes
what is due in batches, each batch one transaction whose files are deleted after it commits;
what it has done is not due any more, so a second run (or a retry) finds nothing left.
Anonymised rows stay, so counts and funding history hold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Max, ProtectedError, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .kinds import KINDS
from .models import (
    AccessLogEntry,
    Anonymised,
    ErasureRecord,
    RetentionRule,
    RetentionRun,
    SubjectAccessExport,
)
from .registry import REGISTRY, PersonalData

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
PEOPLE_BATCH_SIZE = 50
# Folders of uploads that belong to a record; a file there no record names is an orphan.
UPLOAD_FOLDERS = ("submissions", "subject-access")


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


# --- What each kind does ---------------------------------------------------------------------------


def _entry(label: str) -> PersonalData:
    from django.apps import apps

    entry = REGISTRY[apps.get_model(label)]
    assert isinstance(entry, PersonalData)
    return entry


def _delete(label: str) -> Callable[[list[int]], tuple[int, list[str]]]:
    def apply(pks: list[int]) -> tuple[int, list[str]]:
        from django.apps import apps

        model = apps.get_model(label)
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        files: list[str] = []

        def delete(rows: models.QuerySet) -> list[str]:
            named = [name for values in rows.values_list(*names) for name in values if name] if names else []
            with transaction.atomic():  # a savepoint: a refusal leaves the batch's transaction usable
                rows.delete()
            return named

        try:
            return len(pks), delete(model._default_manager.filter(pk__in=pks))
        except ProtectedError:
            pass
        done = 0
        for pk in pks:  # row by row: one another record still needs is kept, not the whole batch
            try:
                files += delete(model._default_manager.filter(pk=pk))
                done += 1
            except ProtectedError:
                logger.info("Retention kept %s %s: another record refers to it", label, pk)
        return done, files

    return apply


def _mark_anonymised(label: str, pks: list[int]) -> None:
    now = timezone.now()
    Anonymised.objects.bulk_create(
        [Anonymised(model=label, object_id=pk, at=now) for pk in pks], ignore_conflicts=True
    )


def _not_anonymised(label: str) -> Q:
    return ~Q(pk__in=Anonymised.objects.filter(model=label).values("object_id"))


def _anonymise_applications(pks: list[int]) -> tuple[int, list[str]]:
    from .services import anonymise_rows

    application = _entry("applications.Application")
    done, files = anonymise_rows(application, application.model.objects.filter(pk__in=pks))
    for label in ("applications.Transition", "applications.Endorsement", "applications.Employment"):
        entry = _entry(label)
        _, more = anonymise_rows(entry, entry.model.objects.filter(application__in=pks))
        files += more
    _mark_anonymised("applications.Application", pks)
    return done, files


def _anonymise_endorsements(pks: list[int]) -> tuple[int, list[str]]:
    from .services import anonymise_rows

    entry = _entry("applications.Endorsement")
    done, files = anonymise_rows(entry, entry.model.objects.filter(pk__in=pks))
    _mark_anonymised("applications.Endorsement", pks)
    return done, files


def _delete_attendance(pks: list[int]) -> tuple[int, list[str]]:
    from engagement.models import Attendance

    Attendance.history.model.objects.filter(id__in=pks).delete()
    done, _ = Attendance.objects.filter(pk__in=pks).delete()
    return len(pks) if done else 0, []


def _clear_import_files(pks: list[int]) -> tuple[int, list[str]]:
    from funding.models import ImportRun

    files = list(ImportRun.objects.filter(pk__in=pks).exclude(file="").values_list("file", flat=True))
    ImportRun.objects.filter(pk__in=pks).update(file="")
    return len(pks), files


def _expire_exports(pks: list[int]) -> tuple[int, list[str]]:
    rows = SubjectAccessExport.objects.filter(pk__in=pks)
    files = list(rows.exclude(file="").values_list("file", flat=True))
    rows.update(file="", status=SubjectAccessExport.Status.EXPIRED)
    return len(pks), files


def _erase_people(pks: list[int]) -> tuple[int, list[str]]:
    from accounts.models import User

    from .services import erase_person

    for person in User.objects.filter(pk__in=pks):
        erase_person(person=person, by=None, cause="retention")  # its own transaction; files after
    return len(pks), []


def _unfinished_applications(cutoff: datetime, now: datetime) -> models.QuerySet:
    from applications.models import Application

    expired_if_started_before = cutoff - timedelta(days=settings.APPLICATION_COMPLETION_DAYS)
    return Application.objects.filter(
        status__in=[Application.Status.DRAFT, Application.Status.REGISTRATION_EXPIRED],
        started_at__lt=expired_if_started_before,
    )


def _closed_applications(cutoff: datetime, now: datetime) -> models.QuerySet:
    from applications.models import Application

    closed = [Application.Status.REJECTED, Application.Status.WITHDRAWN]
    return (
        Application.objects.filter(status__in=closed)
        .filter(_not_anonymised("applications.Application"))
        .annotate(decided_at=Max("transitions__at", filter=Q(transitions__to_status__in=closed)))
        .filter(decided_at__lt=cutoff)
    )


def _endorsements(cutoff: datetime, now: datetime) -> models.QuerySet:
    from applications.models import Endorsement

    return (
        Endorsement.objects.filter(_not_anonymised("applications.Endorsement"))
        .annotate(ended_at=Coalesce("used_at", "expires_at"))
        .filter(ended_at__lt=cutoff)
    )


def _assessment_scripts(cutoff: datetime, now: datetime) -> models.QuerySet:
    from assessment.models import Submission

    return Submission.objects.filter(entry__window__results_released_at__lt=cutoff)


def _attendance(cutoff: datetime, now: datetime) -> models.QuerySet:
    from engagement.models import Attendance

    return Attendance.objects.filter(activity__course__delivery_end__lt=timezone.localtime(cutoff).date())


def _participants(cutoff: datetime, now: datetime) -> models.QuerySet:
    """Enrolments (not people) that have been over for the period; people_due() turns them into
    the people all of whose enrolments are."""
    from programmes.models import Participant

    return Participant.objects.filter(
        status__in=[Participant.Status.COMPLETED, Participant.Status.WITHDRAWN],
        status_changed_on__lt=timezone.localtime(cutoff).date(),
    )


def _inactive_accounts(cutoff: datetime, now: datetime) -> models.QuerySet:
    """People with no enrolment, not staff, nothing open, silent since the cutoff."""
    from accounts.models import User
    from applications.models import Application

    return (
        User.objects.filter(is_staff=False, is_superuser=False, enrolments__isnull=True)
        .annotate(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=cutoff)
        .exclude(applications__status__in=Application.OPEN_STATUSES)
        .exclude(pk__in=ErasureRecord.objects.values("account_id"))
    )


def _notifications(cutoff: datetime, now: datetime) -> models.QuerySet:
    from notifications.models import Notification

    return Notification.objects.filter(
        created_at__lt=cutoff, status__in=[Notification.Status.SENT, Notification.Status.GIVEN_UP]
    )


def _import_files(cutoff: datetime, now: datetime) -> models.QuerySet:
    from funding.models import ImportRun

    finished = [ImportRun.Status.DONE, ImportRun.Status.DONE_WITH_ERRORS, ImportRun.Status.FAILED]
    finished.append(ImportRun.Status.CANCELLED)
    return ImportRun.objects.filter(created_at__lt=cutoff, status__in=finished).exclude(file="")


def _subject_access_exports(cutoff: datetime, now: datetime) -> models.QuerySet:
    return SubjectAccessExport.objects.filter(
        Q(finished_at__lt=cutoff) | Q(expires_at__lte=now),
        status__in=[SubjectAccessExport.Status.DONE, SubjectAccessExport.Status.FAILED],
    )


def _access_log(cutoff: datetime, now: datetime) -> models.QuerySet:
    return AccessLogEntry.objects.filter(at__lt=cutoff)


def _sessions(cutoff: datetime, now: datetime) -> models.QuerySet:
    from django.contrib.sessions.models import Session

    return Session.objects.filter(expire_date__lt=cutoff)


def _job_runs(cutoff: datetime, now: datetime) -> models.QuerySet:
    from notifications.models import JobRun

    return JobRun.objects.filter(started_at__lt=cutoff)


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


# --- Which rows are due -----------------------------------------------------------------------------


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


# --- The nightly job ------------------------------------------------------------------------------


def retention_apply(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete or anonymise everything due, kind by kind, in batches; record each kind's count.
    Returns the number of records (and orphan files) removed."""
    from .services import delete_files_after_commit

    now = now or timezone.now()
    total = 0
    for kind in KINDS:
        removed = files_deleted = 0
        if kind == FILE_KIND:
            names = orphan_files_due(now)
            for name in names:
                default_storage.delete(name)
            removed = files_deleted = len(names)
        else:
            schedule = SCHEDULES[kind]
            tried: set[int] = set()
            size = PEOPLE_BATCH_SIZE if kind in ("participants", "inactive_accounts") else batch_size
            while True:
                due = people_due(now) if kind == "participants" else rows_due(kind, now)
                pks = list(due.exclude(pk__in=tried).order_by("pk").values_list("pk", flat=True)[:size])
                if not pks:
                    break
                tried.update(pks)  # a row that could not go is not tried again in this run
                with transaction.atomic():
                    done, files = schedule.apply(pks)
                    delete_files_after_commit(files)
                removed += done
                files_deleted += len(files)
        if removed:
            RetentionRun.objects.create(kind=kind, ran_at=now, removed=removed, files_deleted=files_deleted)
        total += removed
    return total


# --- What the schedule says, in words -----------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    kind: str
    label: str
    period: str
    event: str
    action: str
    hub_may_change: bool


def period_words(period: int, unit: str) -> str:
    singular = {"days": "day", "months": "month", "years": "year"}[unit]
    return f"{period} {singular if period == 1 else unit}"


def schedule_rows(*, hub=None) -> list[ScheduleRow]:
    """The schedule as a table: each kind's period (the hub's own where it has one)."""
    rules = {(r.kind, r.hub_id): r for r in RetentionRule.objects.filter(enabled=True)}
    rows = []
    for code, kind in KINDS.items():
        rule = rules.get((code, hub.pk)) if hub is not None else None
        rule = rule or rules.get((code, None))
        period = "Kept until removed by staff" if rule is None else period_words(rule.period, rule.unit)
        rows.append(
            ScheduleRow(
                code,
                kind.label,
                period,
                kind.event,
                kind.action,
                code in SCHEDULES and SCHEDULES[code].hub_path is not None,
            )
        )
    return rows


def retention_report(*, now: datetime | None = None) -> list[tuple[ScheduleRow, int, int]]:
    """Each kind with the records due now and those that will be due within a month."""
    from programmes.services import add_months

    now = now or timezone.now()
    local = timezone.localtime(now)
    month_on = add_months(local.date(), 1)
    later = local.replace(year=month_on.year, month=month_on.month, day=month_on.day)
    rules = list(RetentionRule.objects.all())  # read once: two counts per kind, no lookups
    return [
        (row, due_count(row.kind, now, rules), due_count(row.kind, later, rules)) for row in schedule_rows()
    ]
