"""Summative assessment: the 8-day window, who may enter, submissions, marking and outcomes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q

LONDON = ZoneInfo("Europe/London")
WINDOW_DAYS = 8  # fixed by DfE


class AssessmentWindow(models.Model):
    """A course's summative assessment: 8 calendar days from ``opens_on``, closing 23:59 London."""

    course = models.OneToOneField(
        "programmes.Course", on_delete=models.CASCADE, related_name="assessment_window"
    )
    opens_on = models.DateField(
        blank=True, help_text="Leave empty for the end of delivery. The window lasts 8 calendar days."
    )
    case_study_title = models.CharField(max_length=200, blank=True)
    case_study_text = models.TextField(blank=True)
    case_study_file = models.FileField(upload_to="case-studies/", blank=True)
    results_released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Assessment of {self.course}"

    @property
    def opens_at(self) -> datetime:
        return datetime.combine(self.opens_on, time.min, tzinfo=LONDON)

    @property
    def closes_at(self) -> datetime:
        """23:59 (to the last second) Europe/London on day 8, whatever the clocks did in between."""
        last_day = self.opens_on + timedelta(days=WINDOW_DAYS - 1)
        return datetime.combine(last_day, time(23, 59, 59, 999999), tzinfo=LONDON)

    @property
    def marking_due_on(self) -> date:
        """Submission, marking and moderation take the programme's months after delivery ends."""
        from programmes.services import add_months

        return add_months(self.course.delivery_end, self.course.programme.assessment_window_months)

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now <= self.closes_at


class Entry(models.Model):
    """A participant's place in the window: engagement when it opened, or access granted by staff."""

    class Access(models.TextChoices):
        ENGAGEMENT = "engagement", "Engagement of 90% or more"
        GRANTED = "granted", "Granted by staff (exceptional circumstances)"
        NONE = "none", "No access"

    window = models.ForeignKey(AssessmentWindow, on_delete=models.CASCADE, related_name="entries")
    participant = models.ForeignKey(
        "programmes.Participant", on_delete=models.CASCADE, related_name="assessment_entries"
    )
    engagement_at_opening = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    access = models.CharField(max_length=12, choices=Access.choices)
    access_reason = models.TextField(blank=True)
    access_granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    extended_until = models.DateTimeField(null=True, blank=True, help_text="An individual extension.")
    extension_reason = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["window", "participant"], name="assessment_entry_once"),
            models.CheckConstraint(
                condition=~Q(access="granted") | ~Q(access_reason=""), name="granted_access_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} in {self.window}"

    @property
    def may_submit(self) -> bool:
        return self.access in (self.Access.ENGAGEMENT, self.Access.GRANTED)

    @property
    def closes_at(self) -> datetime:
        return (
            max(self.window.closes_at, self.extended_until) if self.extended_until else self.window.closes_at
        )


class Submission(models.Model):
    """One response; the latest before the close counts, earlier ones are kept."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="submissions")
    text = models.TextField(blank=True)
    file = models.FileField(upload_to="submissions/%Y/", blank=True)
    # The name the participant's file had, shown back to them only: it is never used to store,
    # find or serve the file (stored under a name of our making; decision 21).
    original_name = models.CharField(max_length=255, blank=True)
    word_count = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(text="") | ~Q(file=""), name="submission_has_text_or_file"),
        ]

    def __str__(self) -> str:
        return f"Submission by {self.entry.participant} at {self.submitted_at:%Y-%m-%d %H:%M}"


class MarkingAssignment(models.Model):
    """A script given to a marker: first marking, moderation (second marker) or lead decision."""

    class Role(models.TextChoices):
        FIRST = "first", "First marking"
        MODERATION = "moderation", "Moderation"
        LEAD = "lead", "Lead decision"

    class Result(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="marking")
    role = models.CharField(max_length=12, choices=Role.choices)
    # Empty: back in the pool (the marker left the hub or was deactivated before marking it),
    # waiting for staff to give it to someone else.
    marker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="marking_assignments",
    )
    result = models.CharField(max_length=4, choices=Result.choices, blank=True)
    feedback = models.TextField(blank=True)
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "role"], name="one_marker_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of {self.entry} by {self.marker or 'nobody yet'}"


class Outcome(models.Model):
    """The result of a participant's assessment, visible to them once staff release the window's results."""

    class Result(models.TextChoices):
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, related_name="outcome")
    result = models.CharField(max_length=6, choices=Result.choices)
    feedback = models.TextField(blank=True)
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.entry.participant}: {self.get_result_display()}"
