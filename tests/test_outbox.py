"""Notifications as a durable outbox (jobs retried after database and broker errors: test_outbox_jobs.py).

Every row not sent is eventually sent or visibly given up: the sweeper re-queues rows that never
reached a worker and rows whose worker died mid-send (same Message-ID), failed rows are retried
on a long schedule, staff may send again.
"""

import smtplib
import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from applications.reminders import registration_deadline
from notifications import services
from notifications.models import Notification
from notifications.services import (
    CLAIM_EXPIRED,
    deliver_notification,
    notifications_sweep,
    notify,
    run_job,
)
from notifications.tasks import deliver
from tests.factories import LONDON, ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db
START = datetime(2025, 11, 3, 10, 0, tzinfo=LONDON)  # a Monday


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def _broker_not_paused():
    services._broker_paused_until = 0.0
    yield
    services._broker_paused_until = 0.0


@pytest.fixture
def broker_down(monkeypatch):
    """The broker refuses every message (as Redis does when it is down)."""
    refused = []

    def refuse(*args, **kwargs):
        refused.append(kwargs.get("args"))
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver, "apply_async", refuse)
    return refused


class Mailer:
    """A mail backend to drive from the test: ``failures`` refusals, then delivery; a
    ``crash`` hands the message over and then kills the worker (before the row is marked)."""

    failures = 0
    crash = False
    delivered: list = []
    attempted_at: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        Mailer.attempted_at.append(timezone.now())
        if Mailer.failures > 0:
            Mailer.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        Mailer.delivered.extend(messages)
        if Mailer.crash:
            Mailer.crash = False
            raise WorkerKilled
        return len(messages)


class WorkerKilled(BaseException):
    """Stands for kill -9: nothing in the worker gets to handle it."""


@pytest.fixture
def mailer(settings):
    settings.EMAIL_BACKEND = "tests.test_outbox.Mailer"
    Mailer.failures, Mailer.crash, Mailer.delivered, Mailer.attempted_at = 0, False, [], []
    return Mailer


def record(n: int = 1, *, occurrence: str = "1") -> list[Notification]:
    notifications = []
    for _ in range(n):
        user = UserFactory()
        notifications.append(
            notify(
                kind="test",
                recipient=user.email,
                user=user,
                about=user,
                occurrence=occurrence,
                title="Hello",
                template="registration_deadline",
                context={"application": None, "deadline": START},
            )
        )
    return notifications


def sweep(moment: datetime, callbacks) -> int:
    with at(moment), callbacks(execute=True):
        return notifications_sweep()


def status_of(notification: Notification) -> str:
    notification.refresh_from_db()
    return notification.status


# --- Rows that never reached a worker --------------------------------------------------------


def test_a_pending_row_that_never_reached_a_worker_is_sent_by_the_sweeper_once(
    broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    with at(START), django_capture_on_commit_callbacks(execute=True):
        first, second, third = record(3)
    # The broker refused the first message; the next rows were not even tried (paused).
    assert len(broker_down) == 1
    assert {status_of(n) for n in (first, second, third)} == {"pending"} and mail.outbox == []
    monkeypatch.undo()  # the broker is back
    services._broker_paused_until = 0.0
    assert sweep(START + timedelta(seconds=59), django_capture_on_commit_callbacks) == 0  # give it a minute
    assert sweep(START + timedelta(seconds=61), django_capture_on_commit_callbacks) == 3
    assert {status_of(n) for n in (first, second, third)} == {"sent"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.recipient for n in (first, second, third))
    assert sweep(START + timedelta(minutes=10), django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 3


def test_a_queued_row_waiting_for_a_busy_worker_is_queued_again_only_every_few_minutes(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(deliver, "apply_async", lambda args, **kwargs: queued.append(args[0]))
    with at(START), django_capture_on_commit_callbacks(execute=True):
        (notification,) = record()
    assert queued == [notification.pk]  # queued on commit; the worker has not got to it yet
    assert sweep(START + timedelta(minutes=1, seconds=1), django_capture_on_commit_callbacks) == 1
    for minutes in (2, 3, 4, 5, 6):
        assert sweep(START + timedelta(minutes=minutes), django_capture_on_commit_callbacks) == 0
    assert sweep(START + timedelta(minutes=7, seconds=2), django_capture_on_commit_callbacks) == 1
    assert queued == [notification.pk] * 3 and status_of(notification) == "pending"


def test_a_broker_outage_during_a_job_loses_no_reminder(
    broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    with at(START):
        drafts = [ApplicationFactory(answers={"in_england": "yes"}) for _ in range(4)]
    day4 = START + timedelta(days=2, hours=16)  # Thursday morning: day 4 of 5
    with at(day4), django_capture_on_commit_callbacks(execute=True):
        run = run_job("registration_deadline", registration_deadline, day4.date())
    assert (run.sent, run.error) == (4, "")  # the job recorded every reminder and finished
    assert mail.outbox == []
    monkeypatch.undo()
    services._broker_paused_until = 0.0
    assert sweep(day4 + timedelta(minutes=2), django_capture_on_commit_callbacks) == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(d.user.email for d in drafts)


# --- Claims and the Message-ID ----------------------------------------------------------------


def test_a_worker_killed_mid_send_is_resent_once_with_the_same_message_id(
    mailer, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://npq.example.org"
    with at(START):
        (notification,) = record()  # not queued: the test delivers it
        mailer.crash = True
        with pytest.raises(WorkerKilled):
            deliver_notification(notification.pk)
    assert status_of(notification) == "sending" and len(mailer.delivered) == 1
    # The claim (2 minutes) is alive: nobody else sends it.
    assert sweep(START + timedelta(minutes=1, seconds=59), django_capture_on_commit_callbacks) == 0
    assert status_of(notification) == "sending"
    # Expired: taken back once, however many sweeps see it.
    sweep(START + timedelta(minutes=2, seconds=1), django_capture_on_commit_callbacks)
    sweep(START + timedelta(minutes=2, seconds=2), django_capture_on_commit_callbacks)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == (
        "pending",
        1,
        CLAIM_EXPIRED,
    )
    # Sent again after the first retry delay (1 minute) and the sweeper's grace (1 minute).
    assert sweep(START + timedelta(minutes=4, seconds=2), django_capture_on_commit_callbacks) == 1
    assert sweep(START + timedelta(minutes=30), django_capture_on_commit_callbacks) == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 2)
    first, resent = (message.message()["Message-ID"] for message in mailer.delivered)
    assert first == resent == f"<notification-{notification.pk}@npq.example.org>"


def test_two_deliveries_of_one_row_send_it_once(mailer):
    (notification,) = record()
    assert deliver_notification(notification.pk) == "sent"
    assert deliver_notification(notification.pk) == "skipped"
    assert len(mailer.delivered) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_send_keeps_its_claim_alive(settings, monkeypatch):
    """The claim is renewed while the mail server is slow, so the sweeper leaves it alone."""
    settings.NOTIFICATION_CLAIM_SECONDS = 0.2  # renewed every 0.05 s
    renewed = threading.Event()
    renew = services._renew_claim

    def renew_and_tell(*args):
        count = renew(*args)
        renewed.set()
        return count

    monkeypatch.setattr(services, "_renew_claim", renew_and_tell)
    seen = {}

    class SlowMailer:
        def __init__(self, *args, **kwargs):
            pass

        def send_messages(self, messages):
            first_claim = Notification.objects.get().claimed_until
            assert renewed.wait(timeout=30), "the claim was never renewed"
            # Later than the first claim lasted: the renewed claim still holds.
            seen["swept"] = notifications_sweep(now=first_claim + timedelta(milliseconds=10))
            seen["status"] = Notification.objects.get().status
            return len(messages)

    monkeypatch.setattr(services, "queue_delivery", lambda *args, **kwargs: False)  # the test sends it
    (notification,) = record()
    monkeypatch.setattr("tests.test_outbox.Mailer", SlowMailer)
    settings.EMAIL_BACKEND = "tests.test_outbox.Mailer"
    assert deliver_notification(notification.pk) == "sent"
    assert seen == {"swept": 0, "status": "sending"}
    assert status_of(notification) == "sent"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_send_whose_record_meets_a_terminated_connection_is_recorded_not_sent_again(mailer, monkeypatch):
    from django.db.models.query import QuerySet

    monkeypatch.setattr(services, "queue_delivery", lambda *args, **kwargs: False)  # the test sends it
    (notification,) = record()
    update, lost = QuerySet.update, []

    def update_on_a_terminated_connection(queryset, **kwargs):
        if kwargs.get("status") == "sent" and not lost:
            lost.append(kwargs)
            raise OperationalError("terminating connection due to administrator command")
        return update(queryset, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update_on_a_terminated_connection)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    assert deliver_notification(notification.pk) == "sent"
    assert lost and status_of(notification) == "sent" and len(mailer.delivered) == 1


# --- Failures: quick retries, the long schedule, giving up, sending again ------------------------


def test_a_failed_row_is_retried_on_the_long_schedule_and_sent_when_mail_works_again(
    mailer, settings, django_capture_on_commit_callbacks
):
    mailer.failures = 6  # the mail service is down for about half an hour
    with at(START), django_capture_on_commit_callbacks(execute=True):
        (notification,) = record()  # quick attempts (run at once here: eager Celery)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", settings.NOTIFICATION_MAX_ATTEMPTS)
    assert notification.next_attempt_at == START + timedelta(minutes=16)
    assert notification.not_delivered is False  # not given up: still trying
    assert sweep(START + timedelta(minutes=15), django_capture_on_commit_callbacks) == 0
    assert sweep(START + timedelta(minutes=16), django_capture_on_commit_callbacks) == 1  # fails once more
    notification.refresh_from_db()
    assert (notification.status, notification.next_attempt_at) == ("failed", START + timedelta(minutes=48))
    assert sweep(START + timedelta(minutes=48), django_capture_on_commit_callbacks) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 7, "")
    assert len(mailer.delivered) == 1


def test_a_row_still_failing_after_24_hours_is_given_up_and_shown_as_not_delivered(
    client, mailer, django_capture_on_commit_callbacks
):
    mailer.failures = 10_000
    with at(START), django_capture_on_commit_callbacks(execute=True):
        (notification,) = record()
    while True:
        notification.refresh_from_db()
        if notification.status != "failed":
            break
        sweep(notification.next_attempt_at, django_capture_on_commit_callbacks)
    assert notification.status == "given_up" and mailer.delivered == []
    waits = [
        later - earlier
        for earlier, later in zip(mailer.attempted_at[4:], mailer.attempted_at[5:], strict=False)
    ]
    # Doubling from 16 minutes, at most 4 hours; the last attempt exactly 24 hours after the first.
    assert [w // timedelta(minutes=1) for w in waits] == [16, 32, 64, 128, 240, 240, 240, 240, 240]
    assert mailer.attempted_at[-1] == START + timedelta(hours=24)
    assert "SMTPServerDisconnected" in notification.last_error
    assert sweep(START + timedelta(days=3), django_capture_on_commit_callbacks) == 0
    assert deliver_notification(notification.pk) == "skipped"
    client.force_login(notification.user)
    assert "Not delivered" in client.get(reverse("my_notifications")).content.decode()


def test_a_row_that_never_reached_a_worker_in_24_hours_is_given_up_not_sent_late(
    broker_down, django_capture_on_commit_callbacks
):
    with at(START), django_capture_on_commit_callbacks(execute=True):
        (notification,) = record()
    with at(START + timedelta(hours=24, minutes=11)), django_capture_on_commit_callbacks(execute=True):
        assert notifications_sweep() == 0
    notification.refresh_from_db()
    assert notification.status == "given_up" and notification.last_error == "Not delivered within 24 hours"


def test_staff_send_a_given_up_notification_again_from_admin(
    client, mailer, django_capture_on_commit_callbacks
):
    mailer.failures = 10_000
    with at(START), django_capture_on_commit_callbacks(execute=True):
        failing, given_up, sent = record(3)
    Notification.objects.filter(pk=given_up.pk).update(status="given_up")
    Notification.objects.filter(pk=sent.pk).update(status="sent")
    assert status_of(failing) == "failed" and mailer.delivered == []
    mailer.failures = 0  # the mail service works again
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:notifications_notification_changelist")
    with at(START + timedelta(hours=2)), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist,
            {"action": "send_again", "_selected_action": [failing.pk, given_up.pk, sent.pk]},
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailer.delivered) == sorted([failing.recipient, given_up.recipient])
    assert (status_of(failing), status_of(given_up), status_of(sent)) == ("sent", "sent", "sent")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "2 notifications will be sent again.",
        "1 notification was not sent again: it is sent, being sent or waiting to be sent.",
    ]
    page = client.get(changelist, {"status__exact": "given_up"})
    assert page.status_code == 200 and "Not delivered: given up" in page.content.decode()


def test_only_superusers_see_notifications_in_admin(client):
    from tests.factories import HubStaffFactory

    client.force_login(HubStaffFactory())
    assert client.get(reverse("admin:notifications_notification_changelist")).status_code == 403


# --- Queueing ------------------------------------------------------------------------------------


def test_queueing_with_the_broker_unreachable_fails_fast_and_leaves_the_row_to_the_sweeper():
    """No wait on the result store either: deliveries keep no result (a kept result subscribed
    to Redis first, which blocked for 20 s and then raised past the outbox)."""
    import time

    from npq_portal.celery import app
    from tests.conftest import reset_celery_connections
    from tests.faults import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=dead, result_backend=dead, task_always_eager=False)
    reset_celery_connections(app)
    try:
        started = time.monotonic()
        assert services.queue_delivery(1) is False
        assert time.monotonic() - started < 10
        assert services.queue_delivery(2) is False  # paused: not even tried
    finally:
        app.conf.update(saved)
        reset_celery_connections(app)
