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
        # LMS imports name participants by TRN (programmes.lms_import).
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


class Activity(models.Model):
    """Something a participant attends or completes: a session (with a start) or a task (due)."""

    class Kind(models.TextChoices):
        INDUCTION_CONFERENCE = "induction_conference", "Induction conference"
        ONLINE_STUDY_UNIT = "online_study_unit", "Online study unit"
        SEMINAR = "seminar", "Seminar"
        PEER_LEARNING_GROUP = "peer_learning_group", "Peer learning group"
        WEBINAR = "webinar", "Webinar"
        FACE_TO_FACE_DAY = "face_to_face_day", "Face-to-face day"
        CONFERENCE = "conference", "Conference"
        SCHOOL_VISIT = "school_visit", "School visit"
        DIAGNOSTIC = "diagnostic", "Diagnostic activity"
        FORMATIVE_REFLECTION = "formative_reflection", "Formative reflection"
        MENTOR_CHECKIN = "mentor_checkin", "Mentor check-in"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="activities")
    group = models.ForeignKey(
        Group,
        on_delete=models.CASCADE,
        related_name="activities",
        null=True,
        blank=True,
        help_text="Leave empty for an activity of the whole course.",
    )
    code = models.SlugField(max_length=60, help_text="Used to match LMS completion exports.")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="For a session.")
    ends_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text="For a task with a deadline.")
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    required = models.BooleanField(default=True)
    counts_towards_engagement = models.BooleanField(default=True)
    imported_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The last day an LMS import included this activity (see programmes.engagement).",
    )

    class Meta:
        ordering = ["course", "starts_at", "due_on", "title"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["course", "code"], name="activity_code_unique_in_course"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=False) | Q(due_on__isnull=False),
                name="activity_has_date_or_due_date",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="activity_weight_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="activity_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def when(self) -> date | None:
        return self.starts_at.date() if self.starts_at else self.due_on


class Attendance(models.Model):
    """A participant's mark for one activity, from a register or an LMS export."""

    class Status(models.TextChoices):
        ATTENDED = "attended", "Attended"
        COMPLETED = "completed", "Completed"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused (exceptional circumstances)"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attendances")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendances")
    status = models.CharField(max_length=10, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the LMS says it was completed."
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "attendance mark"
        ordering = ["activity", "participant"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "activity"], name="attendance_one_mark_per_activity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant.user} – {self.activity}: {self.get_status_display()}"


class Register(models.Model):
    """A register taken for an activity: for one group, or (no group) for the course's
    participants who have no group. The marks themselves are Attendance rows; this records that
    the register was taken, so that a participant of the group left unmarked counts as having
    missed the activity, and one whose register is not taken yet as awaiting its record."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="registers")
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="registers"
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    taken_at = models.DateTimeField(help_text="When the register was last saved.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "group"],
                condition=Q(group__isnull=False),
                name="register_one_per_activity_and_group",
            ),
            models.UniqueConstraint(
                fields=["activity"],
                condition=Q(group__isnull=True),
                name="register_one_per_activity_without_group",
            ),
        ]

    def __str__(self) -> str:
        return f"Register of {self.activity} ({self.group.name if self.group_id else 'no group'})"


class CalendarFeed(models.Model):
    """A secret address at which a user's calendar app reads their sessions and deadlines."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class EngagementTally(models.Model):
    """A participant's engagement, recomputed set-based per course by programmes.engagement."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="tally")
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Weighted share of required activities due and recorded so far that were completed; empty: none counted yet.",
    )
    done_weight = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    due_weight = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        default=0,
        help_text="The basis: activities due so far and recorded (done or missed), excused ones left out.",
    )
    awaiting_weight = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        default=0,
        help_text="Activities due so far whose register or LMS record has not come in yet (not counted).",
    )
    projected_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The engagement at the end of the course if every activity still possible (to come or awaiting its record) is completed.",
    )
    on_track = models.BooleanField(default=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "engagement tallies"
        indexes = [models.Index(fields=["on_track"])]

    def __str__(self) -> str:
        return f"{self.participant}: {self.percent}%"


class MentorCheckin(models.Model):
    """A one-hour check-in with the school-based mentor: logged by the participant, confirmed by the mentor."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="checkins")
    held_on = models.DateField()
    notes = models.TextField(blank=True)
    mentor_name = models.CharField(max_length=200)
    mentor_email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "mentor check-in"
        ordering = ["held_on"]

    def __str__(self) -> str:
        return f"Check-in of {self.participant} on {self.held_on}"
