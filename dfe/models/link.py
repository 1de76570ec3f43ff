"""Who is who at DfE (a lead provider's API account and staff, a hub's delivery partner id, a
cohort's DfE cohort), DfE's applications as read, every write to DfE recorded as an intent before
it is sent (decisions.md, 38), and each read of DfE (a sync run)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class LeadProviderAccount(models.Model):
    """A lead provider's access to DfE's API: its token (encrypted, dfe/crypto.py) and how far
    the applications have been read (the ``filter[updated_since]`` cursor)."""

    lead_provider = models.OneToOneField(
        "programmes.LeadProvider", on_delete=models.CASCADE, related_name="dfe_account"
    )
    token_encrypted = models.TextField(
        blank=True, editable=False, help_text="The API token, encrypted with DFE_TOKEN_KEY."
    )
    token_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Moved on only after a whole page of applications is stored (dfe/sync.py).
    applications_cursor = models.DateTimeField(
        null=True, blank=True, help_text="Applications changed at DfE since then are read next."
    )
    participants_cursor = models.DateTimeField(
        null=True, blank=True, help_text="Participants changed at DfE since then are read next."
    )

    class Meta:
        verbose_name = "DfE API account"

    def __str__(self) -> str:
        return f"DfE API account of {self.lead_provider}"

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)


class LeadProviderStaff(models.Model):
    """Someone who works for the lead provider: they see and administer all its hubs."""

    lead_provider = models.ForeignKey(
        "programmes.LeadProvider", on_delete=models.CASCADE, related_name="staff"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_provider_roles"
    )

    class Meta:
        verbose_name = "lead provider staff member"
        constraints = [
            models.UniqueConstraint(fields=["lead_provider", "user"], name="lead_provider_staff_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.lead_provider})"


class DeliveryPartner(models.Model):
    """A hub as DfE knows it: its ``delivery_partner_id`` for one DfE cohort (DfE may give a
    different one per cohort; declarations from the 2024 cohort on need it)."""

    hub = models.ForeignKey("programmes.Hub", on_delete=models.CASCADE, related_name="dfe_delivery_partners")
    dfe_cohort = models.CharField("DfE cohort", max_length=10, help_text="Start year, e.g. 2025.")
    delivery_partner_id = models.UUIDField("DfE delivery partner id")

    class Meta:
        ordering = ["hub", "dfe_cohort"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "dfe_cohort"], name="delivery_partner_one_per_cohort"),
        ]

    def __str__(self) -> str:
        return f"{self.hub} in DfE cohort {self.dfe_cohort}"


class DfeCohort(models.Model):
    """Which DfE cohort (call-off contract) a portal cohort belongs to: a start year and a suffix."""

    cohort = models.OneToOneField("programmes.Cohort", on_delete=models.CASCADE, related_name="dfe")
    start_year = models.PositiveSmallIntegerField()
    suffix = models.CharField(max_length=5, default="a", help_text="When DfE has several in a year.")

    class Meta:
        verbose_name = "DfE cohort"

    def __str__(self) -> str:
        return f"{self.start_year}{self.suffix}"


class DfeApplication(models.Model):
    """An NPQ application as DfE's register holds it, read by the sync, linked to the portal's."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending at DfE"
        ACCEPTED = "accepted", "Accepted at DfE"
        REJECTED = "rejected", "Rejected at DfE"

    dfe_id = models.UUIDField("DfE application id", unique=True)
    lead_provider = models.ForeignKey(
        "programmes.LeadProvider", on_delete=models.PROTECT, related_name="dfe_applications"
    )
    participant_id = models.UUIDField("DfE participant id", db_index=True)
    course_identifier = models.CharField(max_length=60)
    cohort = models.CharField("DfE cohort", max_length=10, blank=True)
    cohort_suffix = models.CharField(max_length=5, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    schedule_identifier = models.CharField(max_length=40, blank=True)
    funded_place = models.BooleanField(null=True, blank=True)
    eligible_for_funding = models.BooleanField(null=True, blank=True)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    trn = models.CharField("teacher reference number", max_length=7, blank=True, db_index=True)
    training_status = models.CharField(max_length=12, blank=True, help_text="From DfE's participant record.")
    dfe_updated_at = models.DateTimeField("changed at DfE")
    attributes = models.JSONField(default=dict, help_text="Everything DfE sent, as sent.")
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dfe",
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "DfE application"
        ordering = ["-dfe_updated_at"]
        indexes = [models.Index(fields=["lead_provider", "-dfe_updated_at"], name="dfeapp_provider_updated")]

    def __str__(self) -> str:
        return f"{self.full_name} – {self.course_identifier} (DfE)"


class DfeWrite(models.Model):
    """One change to send to DfE, recorded in the transaction that decides it and before any call:
    sent by a retried task (and a sweep), never twice blindly: after an uncertain result the
    sender reads DfE back first (dfe/writes.py)."""

    class Action(models.TextChoices):
        ACCEPT = "accept", "Accept"
        REJECT = "reject", "Reject"
        WITHDRAW = "withdraw", "Withdraw"
        DEFER = "defer", "Defer"
        RESUME = "resume", "Resume"
        CHANGE_SCHEDULE = "change_schedule", "Change schedule"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        UNCERTAIN = "uncertain", "Sent, no answer yet (checked with DfE before any resend)"
        DONE = "done", "DfE has it"
        REFUSED = "refused", "DfE refused it"

    OPEN_STATES = (State.QUEUED, State.UNCERTAIN)

    dfe_application = models.ForeignKey(DfeApplication, on_delete=models.PROTECT, related_name="writes")
    action = models.CharField(max_length=20, choices=Action.choices)
    payload = models.JSONField(help_text="The request's attributes, as sent.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="DfE's refusal or the last failure, in words.")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "change sent to DfE"
        verbose_name_plural = "changes sent to DfE"
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(state__in=["queued", "uncertain"]), name="dfewrite_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.dfe_application}"


class SyncRun(models.Model):
    """One read of a lead provider's changed applications: how many read, created, updated, failed."""

    lead_provider = models.ForeignKey("programmes.LeadProvider", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    cursor_from = models.DateTimeField(null=True, blank=True)
    cursor_to = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    pulled = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "DfE sync run"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"DfE sync of {self.lead_provider} at {self.started_at:%Y-%m-%d %H:%M}"
