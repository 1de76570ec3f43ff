"""The data declarations follow, in admin: DfE's schedules and milestones, a lead provider's own
earning rules, and DfE's prices for the money at stake."""

from __future__ import annotations

from django.contrib import admin

from common.admin_accessibility import LabelledTabularInline

from ..models import EarningRule, Milestone, OutputPrice, Schedule


class MilestoneInline(LabelledTabularInline):
    model = Milestone
    extra = 0


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """DfE's schedules and milestones: DfE's data, the same for every lead provider."""

    list_display = ("identifier", "dfe_cohort", "starts_on")
    list_filter = ("dfe_cohort",)
    inlines = (MilestoneInline,)


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    """A lead provider's own thresholds for retained declarations (the default is 90%)."""

    list_display = ("lead_provider", "declaration_type", "engagement_threshold")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("lead_provider")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(lead_provider__staff__user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead_provider" and not request.user.is_superuser:
            from programmes.models import LeadProvider

            kwargs["queryset"] = LeadProvider.objects.filter(staff__user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(OutputPrice)
class OutputPriceAdmin(admin.ModelAdmin):
    """DfE's per-participant prices and output shares, for the money at stake on the cohort page."""

    list_display = (
        "course_identifier",
        "dfe_cohort",
        "declaration_type",
        "per_participant_price",
        "output_share",
    )
    list_filter = ("dfe_cohort", "declaration_type")
