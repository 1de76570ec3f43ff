"""The portal's side of DfE's lead provider API (v3): who is who at DfE, what DfE holds, and every
write to DfE recorded as an intent before it is sent (decisions.md, 38)."""

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


# --- declarations (decisions.md, 39) ------------------------------------------------------------

DECLARATION_TYPES = (
    ("started", "Started"),
    ("retained-1", "Retained 1"),
    ("retained-2", "Retained 2"),
    ("completed", "Completed"),
)


class Schedule(models.Model):
    """A DfE schedule in one DfE cohort: when it starts and its milestones (data, editable)."""

    dfe_cohort = models.CharField("DfE cohort", max_length=10, help_text="Start year, e.g. 2025.")
    identifier = models.CharField(
        max_length=40, help_text="DfE's schedule_identifier, e.g. npq-leadership-spring."
    )
    starts_on = models.DateField(help_text="No declaration may be dated before this day.")

    class Meta:
        ordering = ["dfe_cohort", "identifier"]
        constraints = [
            models.UniqueConstraint(fields=["dfe_cohort", "identifier"], name="schedule_unique_in_cohort"),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} ({self.dfe_cohort} cohort)"


class Milestone(models.Model):
    """A declaration type the schedule allows, the day it must be declared by, and when DfE pays."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="milestones")
    declaration_type = models.CharField(max_length=12, choices=DECLARATION_TYPES)
    milestone_date = models.DateField(help_text="Declare by this day.")
    payment_date = models.DateField(null=True, blank=True, help_text="When DfE pays for it (its statement).")

    class Meta:
        ordering = ["schedule", "milestone_date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "declaration_type"], name="milestone_one_per_type"),
        ]

    def __str__(self) -> str:
        return f"{self.get_declaration_type_display()} by {self.milestone_date:%-d %B %Y}"


class EarningRule(models.Model):
    """When a lead provider holds a retained declaration earned (the others are fixed: started =
    the first required activity attended; completed = an assessment outcome released). Without a
    rule the default applies (dfe/declarations.py: DEFAULT_RETAINED_THRESHOLD)."""

    lead_provider = models.ForeignKey(
        "programmes.LeadProvider", on_delete=models.CASCADE, related_name="earning_rules"
    )
    declaration_type = models.CharField(
        max_length=12, choices=[t for t in DECLARATION_TYPES if t[0].startswith("retained")]
    )
    engagement_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="Engagement (% of what was due) at or above which it is earned.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead_provider", "declaration_type"], name="earning_rule_one_per_type"
            ),
            models.CheckConstraint(
                condition=Q(engagement_threshold__gte=0, engagement_threshold__lte=100),
                name="earning_rule_threshold_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_provider}: {self.declaration_type} at {self.engagement_threshold}%"


class Evidence(models.Model):
    """What justified a declaration, frozen when it was made: never changed (a correction is a new
    record that ``replaces`` it), checkable by its content hash (sha256 of the canonical JSON)."""

    participant = models.ForeignKey("programmes.Participant", on_delete=models.PROTECT, related_name="+")
    declaration_type = models.CharField(max_length=12, choices=DECLARATION_TYPES)
    content = models.JSONField(help_text="The tally, marks, LMS completions, check-ins and outcome.")
    content_hash = models.CharField(max_length=64, editable=False)
    met = models.BooleanField(help_text="Whether the rule was met by this evidence.")
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replaces = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name_plural = "evidence records"
        ordering = ["-made_at", "-pk"]

    def __str__(self) -> str:
        return f"Evidence for {self.declaration_type} of {self.participant} ({self.made_at:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Evidence is never changed once recorded; record a correction instead.")
        super().save(*args, **kwargs)


class Declaration(models.Model):
    """A declaration to DfE: recorded with its evidence before it is sent (like DfeWrite), sent
    once, and DfE's state kept."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        UNCERTAIN = "uncertain", "Sent, no answer yet (checked with DfE before any resend)"
        REFUSED = "refused", "DfE refused it"
        SUBMITTED = "submitted", "Submitted"
        ELIGIBLE = "eligible", "Eligible for payment"
        PAYABLE = "payable", "Payable"
        PAID = "paid", "Paid"
        VOIDED = "voided", "Voided"
        INELIGIBLE = "ineligible", "Ineligible"
        AWAITING_CLAWBACK = "awaiting_clawback", "Awaiting clawback"
        CLAWED_BACK = "clawed_back", "Clawed back"

    OPEN_STATES = (State.QUEUED, State.UNCERTAIN)
    # Not billable: another declaration of the type may follow.
    SPENT_STATES = ("refused", "voided", "ineligible", "awaiting_clawback", "clawed_back")

    dfe_application = models.ForeignKey(DfeApplication, on_delete=models.PROTECT, related_name="declarations")
    declaration_type = models.CharField(max_length=12, choices=DECLARATION_TYPES)
    declaration_date = models.DateTimeField()
    has_passed = models.BooleanField(null=True, blank=True, help_text="For completed: the outcome.")
    delivery_partner_id = models.UUIDField("DfE delivery partner id")
    evidence = models.ForeignKey(
        Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="declarations"
    )
    override_reason = models.TextField(
        blank=True, help_text="Why it was sent without evidence that meets the rule (audited)."
    )
    dfe_id = models.UUIDField("DfE declaration id", null=True, blank=True, unique=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    ineligible_reason = models.CharField(max_length=60, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="DfE's refusal or the last failure, in words.")
    outcome_pending = models.BooleanField(
        default=False,
        help_text="An outcome (has_passed) to send on its own: completed was declared before it.",
    )
    void_reason = models.TextField(blank=True)
    void_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # DfE pays one declaration per participant (application) and type.
            models.UniqueConstraint(
                fields=["dfe_application", "declaration_type"],
                condition=~Q(
                    state__in=["refused", "voided", "ineligible", "awaiting_clawback", "clawed_back"]
                ),
                name="declaration_one_billable_per_type",
            ),
            models.CheckConstraint(
                condition=Q(evidence__isnull=False) | ~Q(override_reason=""),
                name="declaration_evidence_or_override",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(state__in=["queued", "uncertain"]), name="declaration_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_declaration_type_display()} for {self.dfe_application}"


class OutputPrice(models.Model):
    """What DfE pays for one declaration: the per-participant price of the NPQ in the DfE cohort
    times the declaration type's output share (DfE's contract figures, entered as data)."""

    dfe_cohort = models.CharField("DfE cohort", max_length=10)
    course_identifier = models.CharField(
        max_length=60, help_text="DfE's course identifier, e.g. npq-headship."
    )
    declaration_type = models.CharField(max_length=12, choices=DECLARATION_TYPES)
    per_participant_price = models.DecimalField(max_digits=9, decimal_places=2)
    output_share = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="The share of the price paid for this declaration, in %."
    )

    class Meta:
        verbose_name = "output price"
        constraints = [
            models.UniqueConstraint(
                fields=["dfe_cohort", "course_identifier", "declaration_type"], name="output_price_unique"
            ),
            models.CheckConstraint(
                condition=Q(output_share__gte=0, output_share__lte=100, per_participant_price__gte=0),
                name="output_price_sensible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_identifier} {self.declaration_type} ({self.dfe_cohort})"

    @property
    def amount(self):
        return (self.per_participant_price * self.output_share / 100).quantize(self.per_participant_price)
