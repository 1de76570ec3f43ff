"""When each kind's rows become due: given the cutoff a rule's period gives (and the time now),
the rows of that kind past it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import AccessLogEntry, Anonymised, ErasureRecord, SubjectAccessExport


def _not_anonymised(label: str) -> Q:
    return ~Q(pk__in=Anonymised.objects.filter(model=label).values("object_id"))


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
