"""Notifications sent at most once per key, and the runs of scheduled jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One email to one person about one thing on one occasion: an outbox row.

    The unique key (kind, recipient, subject, occurrence) is written in the same transaction that
    decides to send, so however often a job runs, or however many run at once, it is recorded
    once. Every row not sent is delivered later or, after ``give_up_at``, visibly given up
    (docs/decisions.md, 29).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed: will try again"
        GIVEN_UP = "given_up", "Not delivered: given up"

    kind = models.CharField(max_length=60)
    recipient = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    subject_type = models.CharField(max_length=60, help_text="What it is about, e.g. programmes.participant.")
    subject_id = models.PositiveBigIntegerField()
    occurrence = models.CharField(max_length=60, help_text="Which time, e.g. 'day-3' or '2026-W48'.")
    title = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField()
    link = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last claimed it.")
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="The worker's claim lasts until then (renewed while sending)."
    )
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When it is next due to be sent (or sent again)."
    )
    give_up_at = models.DateTimeField(
        null=True, blank=True, help_text="Not delivered by then: given up (shown as not delivered)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "recipient", "subject_type", "subject_id", "occurrence"],
                name="notification_once",
            ),
        ]
        indexes = [
            # The sweeper's two questions; sent rows (nearly all of them) are in neither index.
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due_idx",
                condition=models.Q(status__in=["pending", "failed"]),
            ),
            models.Index(
                fields=["claimed_until"],
                name="notification_claim_idx",
                condition=models.Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.kind} to {self.recipient}"

    @property
    def reference(self) -> str:
        return f"NTF-{self.pk:06d}" if self.pk else "NTF-new"

    @property
    def not_delivered(self) -> bool:
        return self.status == self.Status.GIVEN_UP


class JobRun(models.Model):
    """One run of a scheduled job: when, how long, how many sent, what went wrong."""

    job = models.CharField(max_length=80, db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    skipped_overlap = models.BooleanField(default=False, help_text="Another run of the job was still going.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # /healthz reads each job's last successful run: one index probe per job.
            models.Index(
                fields=["job", "-finished_at"],
                name="jobrun_last_success_idx",
                condition=models.Q(finished_at__isnull=False, skipped_overlap=False, error=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
