"""Applications for an NPQ, their endorsement by a headteacher or line manager, and employment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Application(models.Model):
    """A teacher's application for one NPQ in one cohort. Status changes only in services."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Not yet submitted"
        SUBMITTED = "submitted", "Submitted"
        AWAITING_ENDORSEMENT = "awaiting_endorsement", "Waiting for endorsement"
        ENDORSED = "endorsed", "Endorsed"
        ENDORSEMENT_DECLINED = "endorsement_declined", "Endorsement declined"
        ACCEPTED = "accepted", "Accepted"
        WAITLISTED = "waitlisted", "On the waiting list"
        REJECTED = "rejected", "Not accepted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        REGISTRATION_EXPIRED = "registration_expired", "Registration expired"

    OPEN_STATUSES = (
        Status.DRAFT,
        Status.SUBMITTED,
        Status.AWAITING_ENDORSEMENT,
        Status.ENDORSED,
        Status.WAITLISTED,
    )

    class Payment(models.TextChoices):
        SCHOLARSHIP = "scholarship", "Scholarship funding"
        SCHOOL = "school", "My school"
        TRUST = "trust", "My trust"
        SELF = "self", "I will pay"
        ANOTHER = "another", "Another way"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    cohort = models.ForeignKey("programmes.Cohort", on_delete=models.PROTECT, related_name="applications")
    course = models.ForeignKey(
        "programmes.Course", on_delete=models.PROTECT, related_name="applications", null=True, blank=True
    )
    status = models.CharField(max_length=25, choices=Status.choices, default=Status.DRAFT, editable=False)
    # Answers are saved page by page so that the applicant can leave and come back.
    answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    # Copied from the answers at submission, for staff lists and search.
    trn = models.CharField("teacher reference number", max_length=7, blank=True, db_index=True)
    full_name = models.CharField("name as held by the TRA", max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    workplace_name = models.CharField(max_length=255, blank=True)
    institution = models.ForeignKey(
        "funding.Institution",
        on_delete=models.PROTECT,
        to_field="urn",
        null=True,
        blank=True,
        related_name="applications",
    )
    endorser_name = models.CharField(max_length=200, blank=True)
    endorser_email = models.EmailField(blank=True)
    payment = models.CharField(max_length=15, choices=Payment.choices, blank=True)
    support_requested = models.BooleanField(default=False)

    funding_decision = models.ForeignKey(
        "funding.FundingDecision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
    )
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    # Set when accepted (applications/funded_places.py): yes only when eligible for funding;
    # no for a place the school or the participant pays for, which uses none of the funded places.
    funded_place = models.BooleanField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, help_text="Why the application was rejected or withdrawn.")
    participant = models.OneToOneField(
        "programmes.Participant", on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="accepted", participant__isnull=False) | ~Q(status="accepted"),
                name="accepted_application_has_participant",
            ),
            models.CheckConstraint(
                condition=Q(status="waitlisted", waitlist_position__isnull=False) | ~Q(status="waitlisted"),
                name="waitlisted_application_has_position",
            ),
            # Two clicks on "Continue" must not start two drafts.
            models.UniqueConstraint(
                fields=["user", "cohort"], condition=Q(status="draft"), name="one_draft_per_cohort"
            ),
        ]

    def __str__(self) -> str:
        what = self.course.programme.code if self.course_id else "NPQ"
        return f"{self.user} – {what} {self.cohort.identifier}"


class Transition(models.Model):
    """Every status change of an application: from, to, who and when."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=25, choices=Application.Status.choices)
    to_status = models.CharField(max_length=25, choices=Application.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} to {self.get_to_status_display()}"


class FundedPlaceChange(models.Model):
    """Every setting of an application's funded place: at acceptance, and each staff change later
    (with the reason), who and when."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="funded_place_changes"
    )
    funded_place_before = models.BooleanField(null=True, blank=True)
    funded_place = models.BooleanField()
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"Funded place of {self.application}: {'yes' if self.funded_place else 'no'}"


class Endorsement(models.Model):
    """A request to a headteacher or line manager, sent as a link that expires and works once."""

    class Kind(models.TextChoices):
        APPLICATION = "application", "Application"
        CHANGE_OF_EMPLOYER = "change_of_employer", "Change of employer"

    class Decision(models.TextChoices):
        ENDORSED = "endorsed", "Endorsed"
        DECLINED = "declined", "Declined"

    class DomainConcern(models.TextChoices):
        """Why hub staff should check who really holds the endorser's address (see
        applications/endorsement_checks.py); decided when the request is sent."""

        NONE = "", "No concern"
        WEBMAIL = "webmail", "Personal email address (a public webmail service)"
        NEW_FOR_SCHOOL = "new_for_school", "Address domain not seen before for this school"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="endorsements")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.APPLICATION)
    employment = models.ForeignKey(
        "applications.Employment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="endorsements",
    )
    endorser_name = models.CharField(max_length=200)
    endorser_email = models.EmailField()
    # Only a hash of the link's token is stored, so a database leak gives no working link.
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Anyone can name an address they control as their headteacher's: staff are shown requests
    # to webmail or to a domain new for the school, and confirm them or ask again.
    endorser_domain = models.CharField(
        "endorser's address domain", max_length=255, blank=True, help_text="The part after @."
    )
    domain_concern = models.CharField(
        "address check", max_length=20, choices=DomainConcern.choices, blank=True, default=""
    )
    domain_confirmed_at = models.DateTimeField("address confirmed at", null=True, blank=True)
    domain_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="address confirmed by",
    )
    # Staff asked again (a corrected address): this request's link no longer works.
    replaced_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, decision="") | Q(used_at__isnull=False) & ~Q(decision=""),
                name="endorsement_used_iff_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"Endorsement of {self.application} by {self.endorser_email}"


class Employment(models.Model):
    """Where a participant works; a change of employer adds one (endorsed by the new head)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="employments")
    workplace_name = models.CharField(max_length=255)
    institution = models.ForeignKey(
        "funding.Institution",
        on_delete=models.PROTECT,
        to_field="urn",
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.CharField(max_length=200, blank=True)
    headteacher_name = models.CharField(max_length=200)
    headteacher_email = models.EmailField()
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    confirmed = models.BooleanField(default=False, help_text="Endorsed by this employer.")
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return self.workplace_name
