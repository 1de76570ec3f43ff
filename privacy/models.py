"""Records of what the portal does with personal data: subject access exports, erasures, the
retention schedule and its runs, and who viewed whose personal data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .kinds import KIND_CHOICES


class SubjectAccessExport(models.Model):
    """A copy of everything the portal holds about one person: a ZIP of JSON and their files,
    made by a worker (progress in parts), downloadable until it expires."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being prepared"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired: ask for a new copy"

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subject_access_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hub = models.ForeignKey(
        "programmes.Hub",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The hub whose staff asked for it (its administrators may download it).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    parts_total = models.PositiveIntegerField(default=0)
    parts_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="subject-access/%Y/", blank=True)
    records = models.PositiveIntegerField(default=0, help_text="Records in the copy.")
    files = models.PositiveIntegerField(default=0, help_text="Uploaded files in the copy.")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "subject access export"

    def __str__(self) -> str:
        return f"Copy of personal data #{self.pk}"

    @property
    def percent_done(self) -> int:
        return int(100 * self.parts_done / self.parts_total) if self.parts_total else 0


class ErasureRecord(models.Model):
    """That a person was erased: by whom, when, and how many records of each kind went or were
    kept. It holds nothing of the erased data (the account is kept anonymised, by its number)."""

    account_id = models.PositiveBigIntegerField(help_text="The anonymised account's number.")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    erased_at = models.DateTimeField()
    cause = models.CharField(
        max_length=20,
        choices=[("request", "Erasure on request"), ("retention", "Retention schedule")],
        default="request",
    )
    counts = models.JSONField(
        default=dict, help_text="Per kind of record: anonymised, deleted and kept (numbers only)."
    )
    files_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure of account {self.account_id} on {self.erased_at:%d %B %Y}"


class RetentionRule(models.Model):
    """How long one kind of record is kept, after which event: the schedule as data. A rule with
    a hub overrides the portal's rule (no hub) for that hub's records."""

    class Unit(models.TextChoices):
        DAYS = "days", "days"
        MONTHS = "months", "months"
        YEARS = "years", "years"

    kind = models.CharField(max_length=40, choices=KIND_CHOICES)
    hub = models.ForeignKey(
        "programmes.Hub",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="retention_rules",
        help_text="Empty: the portal's rule. A hub's own rule applies to that hub's records.",
    )
    period = models.PositiveIntegerField(help_text="Kept for this many days, months or years.")
    unit = models.CharField(max_length=6, choices=Unit.choices)
    enabled = models.BooleanField(default=True, help_text="Off: the nightly job leaves these records.")

    class Meta:
        ordering = ["kind", "hub"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(hub__isnull=True), name="retention_rule_one_default"
            ),
            models.UniqueConstraint(
                fields=["kind", "hub"], condition=Q(hub__isnull=False), name="retention_rule_one_per_hub"
            ),
        ]

    def __str__(self) -> str:
        where = f" ({self.hub})" if self.hub_id else ""
        return f"{self.get_kind_display()}{where}: {self.period} {self.get_unit_display()}"


class RetentionRun(models.Model):
    """What one run of the retention job did to one kind of record (numbers only)."""

    kind = models.CharField(max_length=40)
    ran_at = models.DateTimeField()
    removed = models.PositiveIntegerField(default=0, help_text="Records deleted or anonymised.")
    files_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-ran_at", "kind"]

    def __str__(self) -> str:
        return f"{self.kind_label} at {self.ran_at:%Y-%m-%d %H:%M}: {self.removed}"

    @property
    def kind_label(self) -> str:
        return dict(KIND_CHOICES).get(self.kind, self.kind)


class AccessLogEntry(models.Model):
    """Someone viewed or exported a participant's personal data: who, what, when."""

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed"
        EXPORTED = "exported", "Exported (CSV)"
        DOWNLOADED = "downloaded", "Downloaded"
        ERASED = "erased", "Erased"

    at = models.DateTimeField(db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    what = models.CharField(max_length=200, help_text="The page or export, in words.")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose data (empty for an export of many people's rows).",
    )
    hub = models.ForeignKey(
        "programmes.Hub",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The hub whose records they were: its administrators see this entry.",
    )
    rows = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-at"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.what}"


class Anonymised(models.Model):
    """A row the retention job anonymised, so that the next run leaves it (idempotent)."""

    model = models.CharField(max_length=100)
    object_id = models.PositiveBigIntegerField()
    at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "anonymised records"
        constraints = [
            models.UniqueConstraint(fields=["model", "object_id"], name="anonymised_once"),
        ]

    def __str__(self) -> str:
        return f"{self.model} #{self.object_id}"
