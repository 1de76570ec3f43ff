"""Declarations (decisions.md, 39): DfE's schedules and milestones, a lead provider's earning
rules, the evidence frozen when a declaration is made, the declaration sent to DfE, and DfE's
prices for each."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .link import DfeApplication

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
    rule the default applies (dfe/declarations/evidence.py: DEFAULT_RETAINED_THRESHOLD)."""

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
