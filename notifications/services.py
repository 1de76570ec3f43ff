"""Sending notifications exactly once, and running scheduled jobs without overlap.

``notify`` records a notification under its unique key in the caller's transaction and queues its
delivery after commit; a second ``notify`` with the same key does nothing. ``deliver`` claims the
row with a conditional UPDATE before sending, so two deliveries of one notification never both
send. A failure is recorded and retried with backoff; after the last attempt it is marked failed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from .models import JobRun, Notification

STUCK_AFTER = timedelta(minutes=15)


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
    notification = Notification(
        kind=kind,
        recipient=recipient.lower(),
        user=user,
        subject_type=about._meta.label_lower,
        subject_id=about.pk,
        occurrence=occurrence,
        title=title,
        link=link,
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
    except IntegrityError:
        return None  # already recorded: sent, or being sent
    transaction.on_commit(lambda: _queue_delivery(notification.pk))
    return notification


def _queue_delivery(notification_id: int) -> None:
    from .tasks import deliver

    deliver.delay(notification_id)


class DeliveryFailed(Exception):
    """Raised to ask Celery to retry a delivery later."""


def deliver_notification(notification_id: int) -> str:
    """Send one notification. Returns sent / skipped / failed; raises DeliveryFailed to retry."""
    claimed = Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING).update(
        status=Notification.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"  # sent already, or another worker is sending it
    notification = Notification.objects.get(pk=notification_id)
    message = EmailMultiAlternatives(
        subject=f"{notification.title} – {settings.SERVICE_NAME}",
        body=notification.body_text,
        to=[notification.recipient],
        headers={"X-NPQ-Reference": notification.reference},
    )
    message.attach_alternative(notification.body_html, "text/html")
    try:
        message.send()
    except Exception as exc:  # any failure of the mail backend: record it, retry or give up
        final = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        Notification.objects.filter(pk=notification_id).update(
            status=Notification.Status.FAILED if final else Notification.Status.PENDING,
            last_error=f"{exc.__class__.__name__}: {exc}"[:2000],
        )
        if final:
            return "failed"
        raise DeliveryFailed(str(exc)) from exc
    Notification.objects.filter(pk=notification_id).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def requeue_stuck(*, now=None) -> int:
    """A worker that died while sending leaves its row 'sending': give it back to the queue."""
    now = now or timezone.now()
    stuck = list(
        Notification.objects.filter(
            status=Notification.Status.SENDING, claimed_at__lt=now - STUCK_AFTER
        ).values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=stuck, status=Notification.Status.SENDING).update(
        status=Notification.Status.PENDING
    )
    for pk in stuck:
        transaction.on_commit(lambda pk=pk: _queue_delivery(pk))
    return len(stuck)


# --- Scheduled jobs ------------------------------------------------------------------------------


@contextmanager
def job_lock(name: str):
    """Yield True if this run holds the job's lock, False if another run of the job holds it."""
    if connection.vendor == "postgresql":
        key = (7001 << 32) | zlib.crc32(name.encode())  # one 64-bit key: namespace, then the job
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    lock = f"job-lock:{name}"
    held = cache.add(lock, True, timeout=3600)
    try:
        yield held
    finally:
        if held:
            cache.delete(lock)


def run_job(name: str, job: Callable[[date], int], today: date | None = None) -> JobRun:
    """Run a scheduled job once at a time, recording when, how long, how many sent and any error."""
    today = today or timezone.localdate()
    run = JobRun.objects.create(job=name, started_at=timezone.now())
    with job_lock(name) as held:
        if not held:
            run.skipped_overlap = True
        else:
            try:
                run.sent = job(today)
            except Exception as exc:  # recorded for the jobs page, then raised for Celery's log
                run.error = f"{exc.__class__.__name__}: {exc}"[:2000]
                run.finished_at = timezone.now()
                run.save()
                raise
    run.finished_at = timezone.now()
    run.save()
    return run
