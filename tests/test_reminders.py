"""Reminders: each at its moment and not before, once however often the job runs; failures retried."""

import smtplib
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from applications.models import Application
from applications.reminders import endorsement_chasers, endorsements_expire, registration_deadline
from applications.services import application_submit
from engagement.models import Attendance
from engagement.reminders import checkins_overdue, engagement_at_risk
from engagement.tally import tally_course
from funding.models import Institution
from notifications.models import JobRun, Notification
from notifications.services import deliver_notification, notify, run_job
from programmes.services import sync_staff_access
from tests.factories import (
    LONDON,
    ActivityFactory,
    ApplicationFactory,
    GroupFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
START = datetime(2025, 11, 3, 10, 0, tzinfo=LONDON)  # a Monday


def at(days: float):
    return time_machine.travel(START + timedelta(days=days), tick=False)


def kinds():
    return sorted(Notification.objects.values_list("kind", "occurrence"))


@pytest.fixture
def submitted(django_capture_on_commit_callbacks):
    Institution.objects.create(
        urn=137001, name="Northfield Academy", establishment_type_code=28, status="Open"
    )
    with at(0):
        application = ApplicationFactory()
        with django_capture_on_commit_callbacks(execute=True):
            application_submit(application=application, by=application.user)
    mail.outbox.clear()
    return application


def run(job, days, callbacks):
    with at(days), callbacks(execute=True):
        return job((START + timedelta(days=days)).date())


def test_endorsement_chasers_on_day_3_and_7_and_not_before(submitted, django_capture_on_commit_callbacks):
    assert run(endorsement_chasers, 2, django_capture_on_commit_callbacks) == 0
    assert run(endorsement_chasers, 3, django_capture_on_commit_callbacks) == 1
    assert run(endorsement_chasers, 3.5, django_capture_on_commit_callbacks) == 0  # again the same day
    assert run(endorsement_chasers, 6, django_capture_on_commit_callbacks) == 0
    assert run(endorsement_chasers, 7, django_capture_on_commit_callbacks) == 1
    assert run(endorsement_chasers, 8, django_capture_on_commit_callbacks) == 0
    assert kinds() == [("endorsement_chaser", "day-3"), ("endorsement_chaser", "day-7")]
    assert [m.to for m in mail.outbox] == [["hana@school.example"], ["hana@school.example"]]
    assert "Reminder: please endorse Alice Adeyemi" in mail.outbox[0].subject
    assert Notification.objects.filter(status="sent").count() == 2


def test_a_late_job_sends_only_the_latest_chaser(submitted, django_capture_on_commit_callbacks):
    assert run(endorsement_chasers, 8, django_capture_on_commit_callbacks) == 1
    assert kinds() == [("endorsement_chaser", "day-7")]


def test_the_application_expires_at_14_days_and_the_applicant_is_told(
    submitted, django_capture_on_commit_callbacks
):
    assert run(endorsements_expire, 13.9, django_capture_on_commit_callbacks) == 0
    assert run(endorsements_expire, 14, django_capture_on_commit_callbacks) == 1
    assert run(endorsements_expire, 15, django_capture_on_commit_callbacks) == 0
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.REGISTRATION_EXPIRED
    assert mail.outbox[-1].to == [submitted.user.email] and "expired" in mail.outbox[-1].subject
    assert run(endorsement_chasers, 15, django_capture_on_commit_callbacks) == 0  # no chasing an expired one


def test_registration_deadline_on_day_4_of_5(django_capture_on_commit_callbacks):
    with at(0):
        application = ApplicationFactory(answers={"in_england": "yes"})
    assert run(registration_deadline, 2, django_capture_on_commit_callbacks) == 0  # day 3 of 5
    assert run(registration_deadline, 2.6, django_capture_on_commit_callbacks) == 1  # Thursday morning: day 4
    assert run(registration_deadline, 4, django_capture_on_commit_callbacks) == 0
    assert mail.outbox[-1].to == [application.user.email]
    assert "Finish it by 10am on 8 November 2025, or" in mail.outbox[-1].body
    assert run(registration_deadline, 5.1, django_capture_on_commit_callbacks) == 0


@pytest.fixture
def group_at_risk():
    group = GroupFactory()
    facilitator = UserFactory(email="fran@hub.example")
    group.facilitators.add(facilitator)
    sync_staff_access(user=facilitator)
    ok, behind = ParticipantFactory(group=group), ParticipantFactory(group=group)
    for day in range(1, 11):
        activity = ActivityFactory(group=group, starts_at=datetime(2025, 10, day, 16, tzinfo=LONDON))
        Attendance.objects.create(participant=ok, activity=activity, status="attended")
        Attendance.objects.create(
            participant=behind, activity=activity, status="attended" if day <= 5 else "absent"
        )
    tally_course(course_id=group.course_id, today=date(2025, 11, 1))
    return group, ok, behind, facilitator


def test_engagement_at_risk_weekly_to_participant_and_facilitator(
    group_at_risk, django_capture_on_commit_callbacks
):
    group, ok, behind, facilitator = group_at_risk
    assert run(engagement_at_risk, 0, django_capture_on_commit_callbacks) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([behind.user.email, "fran@hub.example"])
    assert run(engagement_at_risk, 3, django_capture_on_commit_callbacks) == 0  # same week
    assert run(engagement_at_risk, 7, django_capture_on_commit_callbacks) == 2  # next week
    facilitator_mail = next(m for m in mail.outbox if m.to == ["fran@hub.example"])
    assert (
        behind.user.get_full_name() in facilitator_mail.body
        and ok.user.get_full_name() not in facilitator_mail.body
    )


def test_checkins_overdue_follow_the_pace_of_the_course(django_capture_on_commit_callbacks):
    participant = ParticipantFactory()  # NPQLT: 3 check-ins over 12 months from 1 October 2025
    course = participant.course
    assert (course.delivery_start, course.delivery_end) == (date(2025, 10, 1), date(2026, 10, 1))
    with (
        time_machine.travel(datetime(2026, 1, 30, 9, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert checkins_overdue(date(2026, 1, 30)) == 0  # a third of the year is not yet over
    with (
        time_machine.travel(datetime(2026, 2, 2, 9, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert checkins_overdue(date(2026, 2, 2)) == 1
        assert checkins_overdue(date(2026, 2, 3)) == 0
    assert kinds() == [("checkins_overdue", "expected-1")]


def test_running_every_job_twice_sends_nothing_more(
    submitted, group_at_risk, django_capture_on_commit_callbacks
):
    from notifications.jobs import JOBS

    for days in (3, 7, 14):
        for _ in range(2):
            for name, job in JOBS.items():
                with at(days), django_capture_on_commit_callbacks(execute=True):
                    run_job(name, job, (START + timedelta(days=days)).date())
    sent = len(mail.outbox)
    assert sent == Notification.objects.count() > 0
    for name, job in JOBS.items():
        with at(14), django_capture_on_commit_callbacks(execute=True):
            run_job(name, job, (START + timedelta(days=14)).date())
    assert len(mail.outbox) == sent
    assert JobRun.objects.filter(error="").count() == JobRun.objects.count()


def test_an_overlapping_run_of_a_job_does_no_work():
    from django.db import connection, connections

    from notifications.services import job_lock

    calls = []
    if connection.vendor == "postgresql":
        # Another worker holds the job's lock in its own database session.
        other = connections.create_connection("default")
        try:
            import zlib

            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_lock(%s)", [(7001 << 32) | zlib.crc32(b"endorsement_chasers")]
                )
            overlapping = run_job("endorsement_chasers", lambda today: calls.append(today) or 0)
            with other.cursor() as cursor:  # at once: a closed session's locks go a moment later
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s)", [(7001 << 32) | zlib.crc32(b"endorsement_chasers")]
                )
        finally:
            other.close()
    else:
        with job_lock("endorsement_chasers") as held:
            assert held
            overlapping = run_job("endorsement_chasers", lambda today: calls.append(today) or 0)
    assert overlapping.skipped_overlap and calls == []
    after = run_job("endorsement_chasers", lambda today: calls.append(today) or 0)
    assert not after.skipped_overlap and len(calls) == 1  # the lock was released


class FlakySMTP:
    """A mail backend whose server refuses the first ``failures`` messages."""

    failures = 0
    delivered: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if FlakySMTP.failures > 0:
            FlakySMTP.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        FlakySMTP.delivered.extend(messages)
        return len(messages)


@pytest.fixture
def flaky_smtp(settings):
    settings.EMAIL_BACKEND = "tests.test_reminders.FlakySMTP"
    FlakySMTP.delivered = []
    return FlakySMTP


def make_notification():
    user = UserFactory(email="alice@school.example")
    return notify(
        kind="test",
        recipient=user.email,
        user=user,
        about=user,
        occurrence="1",
        title="Hello",
        template="registration_deadline",
        context={"application": None, "deadline": START},
    )


def test_an_smtp_failure_is_retried_and_sent_once(flaky_smtp, django_capture_on_commit_callbacks):
    flaky_smtp.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        notification = make_notification()  # Celery runs eagerly here: retries happen at once
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 3, "")
    assert len(flaky_smtp.delivered) == 1


def test_an_smtp_failure_that_persists_is_recorded_not_lost_not_duplicated(
    flaky_smtp, settings, django_capture_on_commit_callbacks
):
    flaky_smtp.failures = 99
    with django_capture_on_commit_callbacks(execute=True):
        notification = make_notification()
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == settings.NOTIFICATION_MAX_ATTEMPTS
    assert "SMTPServerDisconnected" in notification.last_error and flaky_smtp.delivered == []
    assert deliver_notification(notification.pk) == "skipped"  # a late redelivery does not resend


def test_participants_see_the_reminders_they_were_sent(client, submitted, django_capture_on_commit_callbacks):
    run(registration_deadline, 0, django_capture_on_commit_callbacks)
    run(endorsements_expire, 14, django_capture_on_commit_callbacks)
    client.force_login(submitted.user)
    html = client.get(reverse("my_notifications")).content.decode()
    assert "Your NPQ application has expired" in html and "NTF-" in html
    client.force_login(UserFactory())
    assert "Your NPQ application has expired" not in client.get(reverse("my_notifications")).content.decode()


def test_jobs_page_shows_last_run_duration_sent_and_errors(client):
    def broken(today):
        raise RuntimeError("database went away")

    run_job("endorsement_chasers", lambda today: 4)
    with pytest.raises(RuntimeError):
        run_job("checkins_overdue", broken)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:notifications_jobrun_jobs"))
    rows = {row["job"]: row for row in page.context["rows"]}
    assert rows["endorsement_chasers"]["last"].sent == 4
    assert rows["checkins_overdue"]["errors"] == 1
    assert "RuntimeError: database went away" in page.content.decode()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_running_the_same_job_at_once_send_each_reminder_once(celery_workers):
    from django.utils import timezone

    from applications.models import Endorsement
    from notifications.tasks import run_scheduled_job

    Institution.objects.create(
        urn=137001, name="Northfield Academy", establishment_type_code=28, status="Open"
    )
    applications = [ApplicationFactory() for _ in range(5)]
    for application in applications:
        application_submit(application=application, by=application.user)
    # The requests went out three days ago (the workers run on the real clock).
    Endorsement.objects.update(sent_at=timezone.now() - timedelta(days=3, hours=1))
    workers = celery_workers(2)
    results = [
        run_scheduled_job.apply_async(args=["endorsement_chasers"], queue=workers["queue"]) for _ in range(2)
    ]
    sent = [result.get(timeout=90) for result in results]
    assert sum(sent) == 5  # between them, each endorser is chased once
    assert Notification.objects.filter(kind="endorsement_chaser").count() == 5
    assert JobRun.objects.filter(job="endorsement_chasers").count() == 2


def test_the_notify_backend_sends_each_message_through_one_template(settings):
    from django.core.mail import EmailMessage

    from notifications.backends import NotifyEmailBackend

    settings.NOTIFY_TEMPLATE_ID = "template-123"
    sent = []

    class FakeNotify:
        def send_email_notification(self, **kwargs):
            sent.append(kwargs)

    backend = NotifyEmailBackend(client=FakeNotify())
    message = EmailMessage(
        "Hello",
        "Body text",
        to=["a@school.example", "b@school.example"],
        headers={"X-NPQ-Reference": "NTF-000007"},
    )
    assert backend.send_messages([message]) == 2
    assert sent[0] == {
        "email_address": "a@school.example",
        "template_id": "template-123",
        "personalisation": {"subject": "Hello", "body": "Body text"},
        "reference": "NTF-000007",
    }


def test_with_a_notify_key_the_portal_uses_notify():
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            "from django.conf import settings; print(settings.EMAIL_BACKEND)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_ENV": "local",
            "NOTIFY_API_KEY": "key-1",
            "NOTIFY_TEMPLATE_ID": "t",
        },
    )
    assert result.stdout.strip() == "notifications.backends.NotifyEmailBackend", result.stderr
