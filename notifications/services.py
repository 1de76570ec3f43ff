"""Notifications as a durable outbox (scheduled jobs that run one at a time: jobs.py).

``notify`` records a notification under its unique key in the caller's transaction and queues its
delivery after commit; a second ``notify`` with the same key does nothing. The row is the
outbox: queueing is only a hint, and a row that never reaches a worker (broker down, worker
killed between commit and queueing) is dispatched again by the sweeper.

``deliver_notification`` claims the row with a conditional UPDATE (``pending`` -> ``sending``)
for ``NOTIFICATION_CLAIM_SECONDS``, renewed while the mail server is talking, so two deliveries
never both send while a worker lives; a claim that expires (the worker died) is taken back by the
sweeper and sent again with the same ``Message-ID``. A failure is recorded on the row and retried
with backoff: quick attempts first, then ``failed`` rows on a longer schedule until
``give_up_at`` (``NOTIFICATION_GIVE_UP_HOURS`` after the row was recorded), when the row is
``given_up``: never silently lost. See docs/decisions.md, 29.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

# The job runner lives in jobs.py; these names stay importable from here, where callers found them.
from .jobs import (  # noqa: F401 (re-exported)
    RETRY_ON_OUTAGE,
    current_run,
    job_lock,
    job_runs_close_abandoned,
    run_job,
)
from .models import JobRun, Notification

logger = logging.getLogger(__name__)

Status = Notification.Status
# A row's own queued delivery has NOTIFICATION_DISPATCH_GRACE_SECONDS (a minute) to reach a
# worker before the sweeper queues it again; once the sweeper has queued a row, it waits
# NOTIFICATION_REDISPATCH_SECONDS (5 minutes) before queueing it again (a busy queue).
# A due row the sweeper finds this long after its give_up_at had its last chance.
GIVE_UP_GRACE = timedelta(minutes=10)
# Retry delays double from NOTIFICATION_RETRY_BACKOFF_SECONDS up to this.
MAX_RETRY_DELAY = timedelta(hours=4)
SWEEP_BATCH = 1000
# After the broker refuses a message, leave new rows to the sweeper for this long (seconds)
# rather than wait on a dead broker once per row.
BROKER_PAUSE_SECONDS = 30.0
CLAIM_EXPIRED = "The claim expired: the worker stopped or lost the database while sending"

_broker_paused_until = 0.0


def notify(
    *,
    kind: str,
    recipient: str,
    about: models.Model,
    occurrence: str,
    title: str,
    template: str,
    context: dict[str, Any],
    link: str = "",
    user=None,
) -> Notification | None:
    """Record a notification and send it after commit, unless this key was recorded before."""
    now = timezone.now()
    notification = Notification(
        kind=kind,
        recipient=recipient.lower(),
        user=user,
        subject_type=about._meta.label_lower,
        subject_id=about.pk,
        occurrence=occurrence,
        title=title,
        link=link,
        next_attempt_at=now,
        give_up_at=now + timedelta(hours=settings.NOTIFICATION_GIVE_UP_HOURS),
    )
    full_context = {
        **context,
        "title": title,
        "link": link,
        "service_name": settings.SERVICE_NAME,
        "site_url": settings.SITE_URL,
    }
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's transaction usable
            notification.body_text = ""
            notification.body_html = ""
            notification.save()
            full_context["reference"] = notification.reference
            notification.body_text = render_to_string(f"emails/reminders/{template}.txt", full_context)
            notification.body_html = render_to_string(
                "emails/reminders/base.html",
                {**full_context, "body": render_to_string(f"emails/reminders/{template}.html", full_context)},
            )
            notification.save(update_fields=["body_text", "body_html"])
            run_id = current_run.get()
            if run_id is not None:  # counted with the row: an aborted run still shows what it recorded
                JobRun.objects.filter(pk=run_id).update(sent=F("sent") + 1)
    except IntegrityError:
        return None  # already recorded: sent, being sent, or waiting for the sweeper
    transaction.on_commit(partial(queue_delivery, notification.pk))
    return notification


def notify_once(**kwargs) -> int:
    """``notify`` in its own transaction, for a job counting what it sent: 1 if this notification
    is new (recorded now, sent after commit), 0 if it was recorded before."""
    with transaction.atomic():
        return 1 if notify(**kwargs) else 0


def site_url(name: str, *args) -> str:
    """The full address of a named page, for a link in a message."""
    return settings.SITE_URL + reverse(name, args=args)


def queue_delivery(notification_id: int, *, countdown: float | None = None) -> bool:
    """Ask a worker to deliver the notification. The row is recorded already, so a broker that
    refuses the message loses nothing: the sweeper queues the row again. False if not queued."""
    global _broker_paused_until
    from .tasks import deliver

    if time.monotonic() < _broker_paused_until:
        return False
    try:
        deliver.apply_async(args=[notification_id], countdown=countdown)
    except Exception as exc:  # whatever the broker's client raised: the sweeper has the row
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning(
            "Could not queue notification %s (%s: %s); the sweeper will send it",
            notification_id,
            exc.__class__.__name__,
            exc,
        )
        return False
    return True


def message_id(notification: Notification) -> str:
    """The same for every attempt, so a resend after a crash mid-send is recognisably the same
    message (and dropped by mail systems that remove duplicates)."""
    domain = urlparse(settings.SITE_URL).hostname or "localhost"
    return f"<notification-{notification.pk}@{domain}>"


def dispatch_grace() -> timedelta:
    """How long a row's own queued delivery has to reach a worker before the sweeper steps in."""
    return timedelta(seconds=settings.NOTIFICATION_DISPATCH_GRACE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling, at most MAX_RETRY_DELAY."""
    seconds = settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=seconds), MAX_RETRY_DELAY)


class DeliveryFailed(Exception):
    """Raised to ask for a quick retry, ``countdown`` seconds from now."""

    def __init__(self, message: str, *, countdown: float):
        super().__init__(message)
        self.countdown = countdown


def deliver_notification(notification_id: int) -> str:
    """Send one notification. Returns sent / skipped / failed / given_up; raises DeliveryFailed
    when a quick retry is due (the row says when)."""
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, status=Status.PENDING).update(
        status=Status.SENDING,
        claimed_at=now,
        claimed_until=now + _claim_length(),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return "skipped"  # sent already, being sent, or waiting for its next attempt
    notification = Notification.objects.get(pk=notification_id)
    message = EmailMultiAlternatives(
        subject=f"{notification.title} – {settings.SERVICE_NAME}",
        body=notification.body_text,
        to=[notification.recipient],
        headers={"Message-ID": message_id(notification), "X-NPQ-Reference": notification.reference},
    )
    message.attach_alternative(notification.body_html, "text/html")
    try:
        with _claim_kept(notification.pk, attempt=notification.attempts):
            message.send()
    except Exception as exc:  # any failure of the mail backend: record it, retry or give up
        outcome, next_at = _record_failure(
            notification, error=f"{exc.__class__.__name__}: {exc}", now=timezone.now()
        )
        if outcome == "retrying":
            raise DeliveryFailed(str(exc), countdown=(next_at - timezone.now()).total_seconds()) from exc
        return outcome
    _mark_sent(notification_id)
    return "sent"


def _mark_sent(notification_id: int) -> None:
    """Record the send, whatever happened meanwhile (a claim taken back during a long send is
    still sent). The message is out: if the connection to the database was lost (a restart, a
    terminated session), reconnect and record it rather than leave the claim to expire, which
    would send it again."""
    for pause in (0.5, 2.0, None):
        try:
            Notification.objects.filter(pk=notification_id).exclude(status=Status.SENT).update(
                status=Status.SENT,
                sent_at=timezone.now(),
                last_error="",
                claimed_until=None,
                next_attempt_at=None,
            )
            return
        except (OperationalError, InterfaceError):
            if pause is None or connection.in_atomic_block:
                raise  # the claim expires and the sweeper sends it again (same Message-ID)
            connection.close()
            time.sleep(pause)


def _claim_length() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)


def _renew_claim(notification_id: int, attempt: int) -> int:
    return Notification.objects.filter(pk=notification_id, status=Status.SENDING, attempts=attempt).update(
        claimed_until=timezone.now() + _claim_length()
    )


@contextmanager
def _claim_kept(notification_id: int, *, attempt: int):
    """Renew the claim every quarter of its length while the body runs (a slow mail server),
    from a thread with its own database connection. A worker that dies stops renewing."""
    stop = threading.Event()

    def keep() -> None:
        try:
            while not stop.wait(settings.NOTIFICATION_CLAIM_SECONDS / 4):
                _renew_claim(notification_id, attempt)
        except Exception:  # a lost renewal only risks a resend, which the Message-ID marks
            logger.warning("Could not renew the claim on notification %s", notification_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    keeper = threading.Thread(target=keep, name=f"claim-notification-{notification_id}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def _record_failure(
    notification: Notification, *, error: str, now: datetime, only_if: Q | None = None
) -> tuple[str, datetime | None]:
    """Record a failed attempt (the attempt ``notification.attempts`` claimed) and schedule the
    next: quick retries while attempts < NOTIFICATION_MAX_ATTEMPTS (``pending``), then the long
    schedule (``failed``), until give_up_at (``given_up``). Returns (outcome, next attempt)."""
    give_up_at = notification.give_up_at or notification.created_at + timedelta(
        hours=settings.NOTIFICATION_GIVE_UP_HOURS
    )
    if now >= give_up_at:
        status, next_at = Status.GIVEN_UP, None
    else:
        quick = notification.attempts < settings.NOTIFICATION_MAX_ATTEMPTS
        status = Status.PENDING if quick else Status.FAILED
        next_at = min(now + retry_delay(notification.attempts), give_up_at)
    recorded = (
        Notification.objects.filter(pk=notification.pk, status=Status.SENDING, attempts=notification.attempts)
        .filter(only_if or Q())
        .update(
            status=status,
            next_attempt_at=next_at,
            give_up_at=give_up_at,
            claimed_until=None,
            last_error=error[:2000],
        )
    )
    if not recorded:
        return "skipped", None  # sent meanwhile, or another claim took over
    return {Status.PENDING: "retrying", Status.FAILED: "failed", Status.GIVEN_UP: "given_up"}[status], next_at


def notifications_sweep(*, now: datetime | None = None) -> int:
    """Every minute: make sure every row not sent reaches a worker. Gives up rows past their
    last chance, takes back expired claims (a worker died mid-send), and queues ``pending`` rows
    whose own delivery never arrived and ``failed`` rows whose next attempt is due. Returns how
    many rows it queued."""
    now = now or timezone.now()
    last_chance = Q(status__in=[Status.PENDING, Status.FAILED], give_up_at__lt=now - GIVE_UP_GRACE)
    Notification.objects.filter(last_chance, last_error="").update(
        last_error=f"Not delivered within {settings.NOTIFICATION_GIVE_UP_HOURS} hours"
    )
    Notification.objects.filter(last_chance).update(status=Status.GIVEN_UP, next_attempt_at=None)

    expired = Q(claimed_until__lt=now) | Q(claimed_until__isnull=True)
    claims = Notification.objects.filter(expired, status=Status.SENDING).only(
        "pk", "attempts", "created_at", "give_up_at"
    )
    for notification in claims[:SWEEP_BATCH]:
        _record_failure(notification, error=CLAIM_EXPIRED, now=now, only_if=expired)

    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=Status.FAILED, next_attempt_at__lte=now)
                | Q(status=Status.PENDING, next_attempt_at__lte=now - dispatch_grace())
            )
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        # Queued now; if it still has not been claimed in a while, queued again.
        Notification.objects.filter(pk__in=due).update(
            status=Status.PENDING,
            next_attempt_at=now + timedelta(seconds=settings.NOTIFICATION_REDISPATCH_SECONDS),
        )
    for pk in due:
        transaction.on_commit(partial(queue_delivery, pk))
    return len(due)


@transaction.atomic
def notifications_send_again(*, notifications: QuerySet[Notification]) -> int:
    """Staff's "Send again": failed and given-up notifications start over (quick attempts, a
    fresh give-up time) and are queued at once. Sent ones and those being sent are left alone."""
    now = timezone.now()
    again = list(
        Notification.objects.select_for_update()
        .filter(pk__in=notifications.values("pk"), status__in=[Status.FAILED, Status.GIVEN_UP])
        .values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=again).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        give_up_at=now + timedelta(hours=settings.NOTIFICATION_GIVE_UP_HOURS),
        claimed_until=None,
    )
    for pk in again:
        transaction.on_commit(partial(queue_delivery, pk))
    return len(again)
