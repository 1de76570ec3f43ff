"""The delivery model: who runs which NPQ, for whom, when.

LeadProvider -> Hub -> Cohort -> Course (a programme in a cohort) -> Group -> Participant.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class LeadProvider(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Hub(models.Model):
    """A teaching school hub (delivery partner). Staff see only their own hub's data."""

    name = models.CharField(max_length=200, unique=True)
    lead_provider = models.ForeignKey(LeadProvider, on_delete=models.PROTECT, related_name="hubs")
    contact_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HubMembership(models.Model):
    """A member of a hub's staff and what they may do there."""

    class Role(models.TextChoices):
        HUB_ADMIN = "hub_admin", "Hub administrator"
        FACILITATOR = "facilitator", "Facilitator"

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "user"], name="hub_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.hub})"


class Programme(models.Model):
    """An NPQ in the national catalogue (docs/domain.md). Loaded by a data migration."""

    class Kind(models.TextChoices):
        SPECIALIST = "specialist", "Specialist"
        LEADERSHIP = "leadership", "Leadership"
        SUPPORT_OFFER = "support_offer", "Support offer"

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    delivery_months = models.PositiveSmallIntegerField()
    assessment_window_months = models.PositiveSmallIntegerField(
        help_text="Months after delivery for submission, marking and moderation (0: no assessment)."
    )
    assessment_extension_months = models.PositiveSmallIntegerField(
        default=0, help_text="Extra months allowed for teachers new to headship (NPQH: 6)."
    )
    max_response_words = models.PositiveIntegerField(default=1500)
    mentor_checkins = models.PositiveSmallIntegerField(
        help_text="One-hour check-ins with a school-based mentor: 3 specialist, 4 leadership."
    )
    endorsed_by_line_manager = models.BooleanField(
        default=False,
        help_text="Endorsed by the applicant's line manager rather than their headteacher.",
    )
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mentor_checkins__in=[0, 3, 4]), name="programme_mentor_checkins_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def has_assessment(self) -> bool:
        return self.assessment_window_months > 0


class Cohort(models.Model):
    """An intake of a hub, identified like ``2025-autumn``."""

    label_related = ("hub",)  # what __str__ reads, for select_related in lists and filters

    class FundingModel(models.TextChoices):
        FULL = "full", "Full"
        CAPPED = "capped", "Capped"
        ZERO = "zero", "Zero (unfunded)"

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="cohorts")
    identifier = models.SlugField(max_length=40, help_text="For example 2025-autumn.")
    start_date = models.DateField()
    registration_opens_on = models.DateField()
    registration_closes_on = models.DateField()
    funding_model = models.CharField(max_length=10, choices=FundingModel.choices, default=FundingModel.FULL)
    funding_round = models.ForeignKey(
        "funding.FundingRound", on_delete=models.PROTECT, related_name="cohorts"
    )

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "identifier"], name="cohort_identifier_unique"),
            models.CheckConstraint(
                condition=Q(registration_opens_on__lte=models.F("registration_closes_on")),
                name="cohort_registration_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} ({self.hub})"

    def is_open_for_registration(self, on: date) -> bool:
        return self.registration_opens_on <= on <= self.registration_closes_on


class Course(models.Model):
    """A programme run in a cohort by the cohort's hub."""

    label_related = ("programme", "cohort")

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="courses")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="courses")
    delivery_start = models.DateField()
    delivery_end = models.DateField(help_text="Derived from the programme's delivery months.")
    funded_places = models.PositiveIntegerField(help_text="Capacity of funded places.")

    class Meta:
        ordering = ["cohort", "programme"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "programme"], name="course_unique_in_cohort"),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} {self.cohort.identifier}"


class Group(models.Model):
    """A group of participants on a course, with facilitators, meeting online or in person."""

    label_related = ("course__programme", "course__cohort")

    class Mode(models.TextChoices):
        ONLINE = "online", "Online"
        FACE_TO_FACE = "face_to_face", "Face to face"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ONLINE)
    venue = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField()
    # Live (active or deferred) participants in the group, kept by programmes.services so that
    # the database itself refuses to go over capacity, even under concurrent enrolments.
    enrolled = models.PositiveIntegerField(default=0, editable=False)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="facilitated_groups"
    )

    class Meta:
        ordering = ["course", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="group_name_unique_in_course"),
            models.CheckConstraint(
                condition=Q(enrolled__lte=models.F("capacity")), name="group_capacity_not_exceeded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.course})"


class Participant(models.Model):
    """A user's enrolment on a course (and group). Status changes go through services."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DEFERRED = "deferred", "Deferred"
        WITHDRAWN = "withdrawn", "Withdrawn"
        COMPLETED = "completed", "Completed"

    LIVE_STATUSES = (Status.ACTIVE, Status.DEFERRED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrolments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="participants")
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="participants", null=True, blank=True
    )
    trn = models.CharField("teacher reference number", max_length=7, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE, editable=False)
    status_reason = models.CharField(max_length=100, blank=True, editable=False)
    status_changed_on = models.DateField(null=True, blank=True, editable=False)
    mentor_name = models.CharField(max_length=200, blank=True)
    mentor_email = models.EmailField(blank=True)
    enrolled_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["course", "user__email"]
        # LMS imports name participants by TRN (engagement.lms_import).
        indexes = [models.Index(fields=["trn"], name="participant_trn")]
        constraints = [
            # One live enrolment per user per course; a withdrawn one may be followed by another.
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=~Q(status="withdrawn"),
                name="participant_one_live_enrolment_per_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.course}"


class FreedPlace(models.Model):
    """A place on a course freed by a withdrawal. Recorded in the withdrawal's own transaction, so
    that the waiting list is offered it even when the process dies right after the commit: it stays
    unsettled until the offer job (or the periodic sweep) has dealt with it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="freed_places")
    participant = models.ForeignKey(
        Participant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    freed_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["freed_at", "pk"]
        indexes = [
            models.Index(
                fields=["course"], condition=Q(settled_at__isnull=True), name="freedplace_unsettled"
            ),
        ]

    def __str__(self) -> str:
        return f"Place freed on {self.course} at {self.freed_at:%d %B %Y %H:%M}"
