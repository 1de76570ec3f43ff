"""Engagement records: the activities of a course or group, the marks participants get for them
(from registers and LMS exports), the registers taken, mentor check-ins, calendar feeds and the
engagement tally computed from them (engagement.tally).

The tables keep the names they had when these models lived in ``programmes`` (decisions.md, 41).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from programmes.models import Course, Group, Participant


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
        help_text="The last day an LMS import included this activity (see engagement.tally).",
    )

    class Meta:
        db_table = "programmes_activity"
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

    history = HistoricalRecords(table_name="programmes_historicalattendance")

    class Meta:
        db_table = "programmes_attendance"
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
        db_table = "programmes_register"
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

    class Meta:
        db_table = "programmes_calendarfeed"

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class EngagementTally(models.Model):
    """A participant's engagement, recomputed set-based per course by engagement.tally."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="tally")
    # The participant's course, written by the tally: a course's tallies are read by this index
    # (its staff page, the stale ones deleted after a run), not through every participant.
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+", db_index=False)
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
        db_table = "programmes_engagementtally"
        verbose_name_plural = "engagement tallies"
        indexes = [
            models.Index(fields=["on_track"]),
            models.Index(fields=["course", "on_track", "percent"], name="tally_course_at_risk"),
        ]

    def __str__(self) -> str:
        return f"{self.participant}: {self.percent}%"

    def save(self, *args, **kwargs) -> None:
        if self.course_id is None:  # the tally writes it in SQL; a tally saved one by one, here
            self.course_id = Participant.objects.values_list("course_id", flat=True).get(
                pk=self.participant_id
            )
        super().save(*args, **kwargs)


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
        db_table = "programmes_mentorcheckin"
        verbose_name = "mentor check-in"
        ordering = ["held_on"]

    def __str__(self) -> str:
        return f"Check-in of {self.participant} on {self.held_on}"
