"""Admin of funding decisions: deciding by policy, re-assessing, the reason filter and the report."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from programmes.admin import HubScopedAdmin, export_as_csv, scoped_filter

from ..eligibility import ALL_REASONS
from ..models import FundingDecision
from ..selectors import funding_report
from ..services import OverrideError, funding_decision_override, funding_decision_reassess
from ..wording import REASON_LABELS, reason_label
from .common import facts_summary


class OverrideForm(forms.ModelForm):
    class Meta:
        model = FundingDecision
        fields = ("override_funded", "override_reason")
        labels = {"override_funded": "Decide by policy", "override_reason": "Reason for deciding by policy"}
        help_texts = {
            "override_reason": "Needed when you decide by policy. The applicant's record keeps it.",
        }
        widgets = {
            "override_funded": forms.Select(
                choices=[
                    (None, "No: use the automatic decision"),
                    (True, "Funded by policy"),
                    (False, "Ineligible by policy"),
                ]
            )
        }

    def clean(self):
        """The reason is checked here, next to its field, before the database's own check
        (``funding_override_has_reason``) could answer with a constraint's name."""
        data = super().clean()
        if data.get("override_funded") is not None and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", "Enter the reason for deciding by policy")
        return data


class ReasonFilter(admin.SimpleListFilter):
    """The decision's reason, in words (the codes stay in the CSV export)."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        """The reasons the user's decisions have (one query), in the vocabulary's order."""
        present = set()
        # No ordering: the model's (by date) would be part of DISTINCT, one row per decision.
        pairs = (
            model_admin.get_queryset(request).values_list("reason", "override_funded").order_by().distinct()
        )
        for reason, override in pairs:
            if override is None:
                present.add(reason)
            else:
                present.add("marked_funded_by_policy" if override else "marked_ineligible_by_policy")
        known = [(code, label) for code, label in REASON_LABELS.items() if code in present]
        return known + [(code, reason_label(code)) for code in sorted(present - set(REASON_LABELS))]

    def queryset(self, request, queryset):
        if self.value() == "marked_funded_by_policy":
            return queryset.filter(override_funded=True)
        if self.value() == "marked_ineligible_by_policy":
            return queryset.filter(override_funded=False)
        if self.value():
            return queryset.filter(reason=self.value(), override_funded__isnull=True)
        return queryset


@admin.register(FundingDecision)
class FundingDecisionAdmin(HubScopedAdmin, SimpleHistoryAdmin):
    form = OverrideForm
    list_display = ("user", "course", "decision_reason", "targeted_support", "assessed")
    list_select_related = ("user", "course__programme", "course__cohort")
    list_filter = (
        ("course__cohort", scoped_filter),
        ("course__programme", scoped_filter),
        ReasonFilter,
        "funded",
        "subject_to_review",
    )
    search_fields = ("user__email", "user__full_name")
    readonly_fields = (
        "user",
        "course",
        "funding_round",
        "outcome",
        "automatic_outcome",
        "review",
        "targeted_support",
        "facts_display",
        "assessed_at",
        "overridden_by",
        "overridden_at",
    )
    fieldsets = (
        (
            "Decision",
            {
                "fields": (
                    "user",
                    "course",
                    "funding_round",
                    "outcome",
                    "automatic_outcome",
                    "review",
                    "targeted_support",
                    "assessed_at",
                )
            },
        ),
        ("The facts it was decided from", {"fields": ("facts_display",)}),
        (
            "Decide by policy",
            {"fields": ("override_funded", "override_reason", "overridden_by", "overridden_at")},
        ),
    )
    actions = (export_as_csv, "reassess")
    change_list_template = "admin/funding/fundingdecision/change_list.html"
    change_form_template = "admin/funding/fundingdecision/change_form.html"
    csv_columns = (
        ("Email", "user.email"),
        ("Programme", "course.programme.code"),
        ("Cohort", "course.cohort.identifier"),
        ("Funded", "effective_funded"),
        ("Reason", "effective_reason"),
        ("Targeted support funding (GBP)", "effective_targeted_support_gbp"),
        ("Override reason", "override_reason"),
    )

    @admin.display(description="Assessed", ordering="assessed_at")
    def assessed(self, obj: FundingDecision) -> str:
        return date_format(timezone.localtime(obj.assessed_at), "j M Y")

    @admin.display(description="Decision")
    def decision_reason(self, obj: FundingDecision) -> str:
        return reason_label(obj.effective_reason)

    @admin.display(description="Outcome")
    def outcome(self, obj: FundingDecision) -> str:
        return reason_label(obj.effective_reason)

    @admin.display(description="Automatic decision")
    def automatic_outcome(self, obj: FundingDecision) -> str:
        return reason_label(obj.reason)

    @admin.display(description="Needs review")
    def review(self, obj: FundingDecision) -> str:
        return "Yes: it joined the review queue" if obj.subject_to_review else "No"

    @admin.display(description="Targeted support funding")
    def targeted_support(self, obj: FundingDecision) -> str:
        return f"£{obj.effective_targeted_support_gbp}"

    @admin.display(description="Facts")
    def facts_display(self, obj: FundingDecision) -> str:
        return facts_summary(obj.facts, html_id="decision-facts")

    def save_model(self, request, obj, form, change):
        try:
            funding_decision_override(
                decision=obj,
                funded=form.cleaned_data["override_funded"],
                reason=form.cleaned_data["override_reason"],
                by=request.user,
            )
        except OverrideError as exc:
            messages.error(request, str(exc))

    def has_add_permission(self, request):
        return False  # decisions come from applications and the rules

    @admin.action(description="Re-assess with the current rules and data", permissions=["change"])
    def reassess(self, request: HttpRequest, queryset) -> None:
        for decision in queryset.select_related("user", "course__cohort__funding_round", "course__programme"):
            funding_decision_reassess(decision=decision)
        count = queryset.count()
        messages.success(
            request, ngettext("%d decision re-assessed.", "%d decisions re-assessed.", count) % count
        )

    def get_urls(self):
        return [
            path(
                "report/", self.admin_site.admin_view(self.report_view), name="funding_fundingdecision_report"
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        rows = funding_report(self.get_queryset(request))
        reasons = [r for r in ALL_REASONS if any(row.not_funded_by_reason[r] for row in rows)]
        # Column headings in words; the codes stay in CSV exports.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Funding report",
            "rows": [(row, [row.not_funded_by_reason[r] for r in reasons]) for row in rows],
            "reasons": [reason_label(r) for r in reasons],
            "total_tsf": sum(row.targeted_support_gbp for row in rows),
        }
        return TemplateResponse(request, "admin/funding/fundingdecision/report.html", context)
