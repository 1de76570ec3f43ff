"""Admin of funding reviews: the review queue, each review's steps and its history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from programmes.admin import HubScopedAdmin, scoped_filter

from ..models import FundingReview, FundingReviewUpdate
from ..reviews import (
    AGE_BANDS,
    ReviewError,
    age_in_words,
    funding_review_update,
    reviews_in_queue_for,
)
from ..wording import EMPLOYMENT_TYPES, reason_label


class ReviewForm(forms.ModelForm):
    """A step of the review: the status (radios, DfE's four) and a note; both kept with who and
    when (funding/reviews.py). The note is new each time; earlier ones are listed below it."""

    note = forms.CharField(
        label="Note",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed when you change the status. Say why: what you asked for and from whom, why "
        "the applicant must register again, or what was decided (decide the funding by policy on the "
        "decision's page). Kept with your name and the time.",
    )

    class Meta:
        model = FundingReview
        fields = ("status",)
        labels = {"status": "Review status"}
        widgets = {"status": forms.RadioSelect}

    def clean(self):
        """Refused here, next to the field, what funding_review_update would refuse."""
        data = super().clean()
        status, note = data.get("status"), (data.get("note") or "").strip()
        changed = status is not None and status != self.initial.get("status")
        if changed and not note:
            self.add_error(
                "note",
                f"Enter a note saying why the case is now \u201c{FundingReview.Status(status).label}\u201d",
            )
        elif not changed and not note and status is not None:
            self.add_error("note", "Choose a different status or enter a note")
        return data


class ReviewAgeFilter(admin.SimpleListFilter):
    """How long a case has been in the queue (since its decision joined it)."""

    title = "time in the queue"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(code, label) for code, label, _, _ in AGE_BANDS]

    def queryset(self, request, queryset):
        return reviews_in_queue_for(queryset, self.value()) if self.value() else queryset


class ReviewUpdateInline(admin.TabularInline):
    """The review's steps, read-only, for whoever may view the review (hub staff hold no
    permissions on this model of their own)."""

    model = FundingReviewUpdate
    verbose_name = "review step"
    verbose_name_plural = "review history"
    fields = ("when", "by", "status_change", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by").order_by("-at", "-pk")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("funding.view_fundingreview")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="When")
    def when(self, obj: FundingReviewUpdate) -> str:
        return date_format(timezone.localtime(obj.at), "j M Y, H:i")

    @admin.display(description="Status")
    def status_change(self, obj: FundingReviewUpdate) -> str:
        if not obj.to_status:
            return f"{obj.get_from_status_display()} (unchanged)"
        return f"{obj.get_from_status_display()} to {obj.get_to_status_display()}"


@admin.register(FundingReview)
class FundingReviewAdmin(HubScopedAdmin, SimpleHistoryAdmin):
    """The review queue: oldest first, filtered by status and by time in the queue."""

    form = ReviewForm
    list_display = ("decision_user", "decision_course", "employment", "status", "in_queue_for", "status_set")
    list_select_related = (
        "decision__user",
        "decision__course__programme",
        "decision__course__cohort",
        "status_changed_by",
    )
    list_filter = ("status", ReviewAgeFilter, ("decision__course__cohort", scoped_filter))
    search_fields = ("decision__user__email",)
    readonly_fields = (
        "applicant",
        "decision_link",
        "why",
        "employment",
        "opened",
        "status_set",
        "earlier_notes",
    )
    fieldsets = (
        (
            "The case",
            {"fields": ("applicant", "decision_link", "why", "employment", "opened", "earlier_notes")},
        ),
        ("Review", {"fields": ("status", "status_set", "note")}),
    )
    inlines = (ReviewUpdateInline,)
    csv_columns = (
        ("Email", "decision.user.email"),
        ("Programme", "decision.course.programme.code"),
        ("Status", "status"),
        ("In the queue since", "opened_at"),
    )

    @admin.display(description="Applicant", ordering="decision__user__email")
    def decision_user(self, obj: FundingReview) -> str:
        return obj.decision.user.email

    @admin.display(description="Applicant")
    def applicant(self, obj: FundingReview) -> str:
        user = obj.decision.user
        return f"{user.full_name} ({user.email})" if getattr(user, "full_name", "") else user.email

    @admin.display(description="Course")
    def decision_course(self, obj: FundingReview) -> str:
        return str(obj.decision.course)

    @admin.display(description="Funding decision")
    def decision_link(self, obj: FundingReview) -> str:
        url = reverse("admin:funding_fundingdecision_change", args=[obj.decision_id])
        return format_html(
            '<a href="{}">{}: {}</a> (decide by policy there)',
            url,
            obj.decision.course,
            reason_label(obj.decision.effective_reason),
        )

    @admin.display(description="Why it is reviewed")
    def why(self, obj: FundingReview) -> str:
        return reason_label(obj.decision.reason)

    @admin.display(description="Role")
    def employment(self, obj: FundingReview) -> str:
        kind = obj.decision.facts.get("employment_type") or ""
        return EMPLOYMENT_TYPES.get(kind, kind.replace("_", " ")) or "–"

    @admin.display(description="In the queue for", ordering="opened_at")
    def in_queue_for(self, obj: FundingReview) -> str:
        return age_in_words(obj.opened_at)

    @admin.display(description="In the queue since")
    def opened(self, obj: FundingReview) -> str:
        return f"{date_format(timezone.localtime(obj.opened_at), 'j M Y')} ({age_in_words(obj.opened_at).lower()})"

    @admin.display(description="Status set", ordering="status_changed_at")
    def status_set(self, obj: FundingReview) -> str:
        if obj.status_changed_at is None:
            return "When the case joined the queue"
        return f"{date_format(timezone.localtime(obj.status_changed_at), 'j M Y, H:i')} by {obj.status_changed_by or 'the portal'}"

    @admin.display(description="Notes from before the review history")
    def earlier_notes(self, obj: FundingReview) -> str:
        return obj.notes or "None"

    def save_model(self, request, obj, form, change):
        """Through the service: the step is recorded with who and when, under a row lock."""
        try:
            funding_review_update(
                review=obj,
                status=form.cleaned_data.get("status"),
                note=form.cleaned_data.get("note", ""),
                by=request.user,
            )
        except ReviewError as exc:
            messages.error(request, str(exc))

    def has_add_permission(self, request):
        return False
