"""Funding data: rounds (rules as data), GIAS establishments, eligibility lists, decisions.

The rules themselves live in funding/eligibility.py (a pure function); this module stores what
they read and what they decided.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .rounds import DEFAULT_ROUNDS, RoundRules, RulesError, check_rules


class FundingRound(models.Model):
    """The DfE funding rules that govern a cohort, e.g. ``2022-23``, ``2025``, ``2025-26`` or ``2026``."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    in_force_from = models.DateField(
        null=True,
        blank=True,
        help_text="The first day DfE applies this round's rules to new registrations. The public "
        "funding checker uses the round in force on the day it is asked.",
    )
    rules_data = models.JSONField(
        "rules",
        default=dict,
        blank=True,
        help_text=(
            "What this round changes from the portal's defaults for its code: its table of rules "
            '("rules"), eligible establishment type codes and the other settings shown below. '
            "Empty: the defaults."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def rules(self) -> RoundRules:
        return rules_from_data(self.code, self.rules_data or {})

    @classmethod
    def in_force(cls, on: date) -> FundingRound | None:
        """The round whose rules DfE applies to a registration made ``on`` that day."""
        return cls.objects.filter(in_force_from__lte=on).order_by("-in_force_from").first()


def rules_from_data(code: str, data: dict) -> RoundRules:
    """The round's rules: its defaults (if the portal has them) with the stored JSON on top.
    Lists become tuples; unknown keys are refused and the rule table is checked (RulesError, in
    words); a round the portal has no defaults for must give its whole table."""
    from .eligibility import LIST_KINDS, RULE_REASONS

    fields = set(RoundRules.__dataclass_fields__) - {"code"}
    unknown = set(data) - fields
    if unknown:
        raise RulesError(f"{sorted(unknown)[0]!r} is not a rule of a round")
    values = {}
    for key, value in data.items():
        if key == "rules":
            value = check_rules(value, reasons=RULE_REASONS, lists=LIST_KINDS)
        elif isinstance(value, list):
            value = tuple(value)
        values[key] = value
        _check_value(key, value)
    base = DEFAULT_ROUNDS.get(code)
    if base is not None:
        return dataclasses.replace(base, **values)
    if "rules" not in values:
        raise RulesError("a new round needs its table of rules")
    return RoundRules(code=code, **values)


def _check_value(key: str, value) -> None:
    """Numbers where the engine compares numbers, codes where it compares codes."""
    if key in (
        "ehco_max_years_as_headteacher",
        "targeted_support_funding_gbp",
        "targeted_support_max_pupils",
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RulesError(f"{key!r} must be a whole number of 0 or more")
    elif key in ("eligible_type_codes", "outside_england_type_codes"):
        if not isinstance(value, tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise RulesError(f"{key!r} must be a list of establishment type codes (numbers)")
    elif key in ("outside_england_la_codes", "targeted_support_settings") and (
        not isinstance(value, tuple) or not all(isinstance(v, str) for v in value)
    ):
        raise RulesError(f"{key!r} must be a list of codes in quotes")


class Institution(models.Model):
    """An establishment from GIAS (Get Information about Schools), imported by ``import_gias``."""

    urn = models.PositiveIntegerField("URN", unique=True)
    ukprn = models.PositiveIntegerField("UKPRN", null=True, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    establishment_type_code = models.PositiveSmallIntegerField(null=True, blank=True)
    establishment_type_name = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=60, blank=True)
    phase = models.CharField(max_length=60, blank=True)
    number_of_pupils = models.PositiveIntegerField(null=True, blank=True)
    la_code = models.CharField("LA code", max_length=3, blank=True)
    la_name = models.CharField("LA name", max_length=120, blank=True)
    postcode = models.CharField(max_length=10, blank=True, db_index=True)
    open_date = models.DateField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} (URN {self.urn})"


class EarlyYearsProvider(models.Model):
    """An early years setting on Ofsted's register, identified like ``EY123456``."""

    ofsted_urn = models.CharField("Ofsted URN", max_length=12, unique=True)
    name = models.CharField(max_length=255)
    postcode = models.CharField(max_length=10, blank=True)
    la_code = models.CharField("LA code", max_length=3, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ofsted_urn})"


class IttProvider(models.Model):
    """An initial teacher training provider; lead mentors of approved ones may be funded."""

    name = models.CharField(max_length=255, unique=True)
    approved = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "ITT provider"

    def __str__(self) -> str:
        return self.name


class EligibilityListEntry(models.Model):
    """A setting on one of DfE's published eligibility lists for a round."""

    class Kind(models.TextChoices):
        PP50_SCHOOL = "pp50_school", "Top 50% of schools by pupil premium"
        PP50_FE = "pp50_fe", "Top 50% of 16 to 19 settings by disadvantage"
        DISADVANTAGED_EARLY_YEARS = "disadvantaged_early_years", "Disadvantaged early years settings"
        CHILDMINDER = "childminder", "Childminders"
        RISE = "rise", "RISE schools"
        LA_DISADVANTAGED_NURSERY = "la_disadvantaged_nursery", "Local authority nurseries"

    funding_round = models.ForeignKey(FundingRound, on_delete=models.CASCADE, related_name="list_entries")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    identifier = models.CharField(
        max_length=12, help_text="URN, UKPRN or Ofsted URN, as the list publishes it."
    )

    class Meta:
        ordering = ["funding_round", "kind", "identifier"]
        verbose_name_plural = "eligibility list entries"
        constraints = [
            models.UniqueConstraint(
                fields=["funding_round", "kind", "identifier"], name="eligibility_entry_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} on {self.get_kind_display()} ({self.funding_round.code})"


class ImportRun(models.Model):
    """One import of a file, run by a Celery task; its progress and problems shown in admin.

    A run ends done, failed (with a message in words) or, for a list that would shrink by more
    than half, waiting for a superuser to confirm (funding/imports/runs.py). A running run writes
    ``heartbeat_at`` as it goes; one silent for IMPORT_STALE_MINUTES is failed by a sweep.
    """

    class Kind(models.TextChoices):
        GIAS = "gias", "GIAS establishments"
        ELIGIBILITY_LIST = "eligibility_list", "Eligibility list"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        NEEDS_CONFIRMATION = "needs_confirmation", "Needs confirmation"
        DONE = "done", "Done"
        DONE_WITH_ERRORS = "done_with_errors", "Done, with rows skipped"
        FAILED = "failed", "Failed: nothing loaded"
        CANCELLED = "cancelled", "Cancelled: nothing loaded"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="imports/%Y/%m/")
    funding_round = models.ForeignKey(FundingRound, on_delete=models.CASCADE, null=True, blank=True)
    list_kind = models.CharField(max_length=30, choices=EligibilityListEntry.Kind.choices, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True, help_text="[line, message] pairs.")
    message = models.TextField(blank=True)
    changes = models.JSONField(
        default=dict, blank=True, help_text="A list's replacement: counts, samples and the list's digest."
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rerun_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reruns",
        verbose_name="run again from",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker has started this run.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField("last heard from", null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="eligibility_list") | (Q(funding_round__isnull=False) & ~Q(list_kind="")),
                name="import_list_has_round_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk}"


class FundingDecision(models.Model):
    """A decision on one applicant's funding for one NPQ: the facts, the round and the result.

    Re-assessing replaces the automatic result; a staff override (with its reason) wins over it.
    Every change is kept in the history.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="funding_decisions"
    )
    course = models.ForeignKey(
        "programmes.Course", on_delete=models.PROTECT, related_name="funding_decisions"
    )
    funding_round = models.ForeignKey(FundingRound, on_delete=models.PROTECT, related_name="decisions")
    facts = models.JSONField(help_text="The facts the decision was made from (assess_funding format).")
    funded = models.BooleanField()
    reason = models.CharField(max_length=50)
    subject_to_review = models.BooleanField(default=False)
    targeted_support_funding_gbp = models.PositiveIntegerField(default=0)
    assessed_at = models.DateTimeField()
    # Staff override: funded/ineligible "by policy", with a reason.
    override_funded = models.BooleanField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_at"]
        # The staff list's order: a page is read along it, not sorted from all the hub's decisions.
        indexes = [models.Index(fields=["-assessed_at", "-id"], name="funding_decision_newest")]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="funding_decision_one_per_course"),
            models.CheckConstraint(
                condition=Q(override_funded__isnull=True) | ~Q(override_reason=""),
                name="funding_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        from .wording import reason_label

        return f"{self.user} – {self.course}: {reason_label(self.effective_reason)}"

    @property
    def effective_funded(self) -> bool:
        return self.funded if self.override_funded is None else self.override_funded

    @property
    def effective_reason(self) -> str:
        if self.override_funded is None:
            return self.reason
        return "marked_funded_by_policy" if self.override_funded else "marked_ineligible_by_policy"

    @property
    def effective_targeted_support_gbp(self) -> int:
        return self.targeted_support_funding_gbp if self.effective_funded else 0


class FundingReview(models.Model):
    """A case in the manual review queue (decisions ``subject_to_review``), worked as DfE does:
    needs review -> awaiting information -> decision made, or re-register (the applicant must
    register again, e.g. with the right workplace). Each step and note is a FundingReviewUpdate."""

    class Status(models.TextChoices):
        NEEDS_REVIEW = "needs_review", "Needs review"
        AWAITING_INFORMATION = "awaiting_information", "Awaiting information"
        REREGISTER = "reregister", "Re-register"
        DECISION_MADE = "decision_made", "Decision made"

    OPEN_STATUSES = (Status.NEEDS_REVIEW, Status.AWAITING_INFORMATION)

    decision = models.OneToOneField(FundingDecision, on_delete=models.CASCADE, related_name="review")
    status = models.CharField(max_length=25, choices=Status.choices, default=Status.NEEDS_REVIEW)
    notes = models.TextField(blank=True)
    opened_at = models.DateTimeField("in the queue since", default=timezone.now)
    status_changed_at = models.DateTimeField("status set at", null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="status set by",
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["opened_at", "pk"]

    def __str__(self) -> str:
        return f"Review of {self.decision}"


class FundingReviewUpdate(models.Model):
    """One step of a review: a status set and/or a note, who and when."""

    review = models.ForeignKey(FundingReview, on_delete=models.CASCADE, related_name="updates")
    from_status = models.CharField(max_length=25, choices=FundingReview.Status.choices, blank=True)
    to_status = models.CharField(max_length=25, choices=FundingReview.Status.choices, blank=True)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"Update of {self.review}"


class EligibilityListChange(models.Model):
    """One replacement of a round's eligibility list: what it added and removed, who and when."""

    funding_round = models.ForeignKey(FundingRound, on_delete=models.CASCADE, related_name="list_changes")
    kind = models.CharField("list", max_length=30)
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="list_changes"
    )
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replaced_at = models.DateTimeField()
    entries_before = models.PositiveIntegerField()
    entries_after = models.PositiveIntegerField()
    added = models.JSONField(default=list, blank=True, help_text="Identifiers added, sorted.")
    removed = models.JSONField(default=list, blank=True, help_text="Identifiers removed, sorted.")

    class Meta:
        ordering = ["-replaced_at", "-pk"]
        verbose_name = "eligibility list replacement"

    def __str__(self) -> str:
        return f"{self.kind} ({self.funding_round.code}) replaced {self.replaced_at:%d %b %Y %H:%M}"
