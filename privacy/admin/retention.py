"""The retention schedule's rules (superusers the portal's, a hub's administrators their own
hub's) and the report of what goes in the next month."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from programmes.models import Hub

from ..kinds import KINDS
from ..models import RetentionRule, RetentionRun
from ..retention import SCHEDULES, retention_report
from .scope import hub_ids, is_hub_admin

# Kinds whose rules only superusers set, even for one hub: the access log records what hub staff
# viewed and exported (the audited do not set how long it is kept), and a participant's time
# being up erases the whole account, at every hub (erasure is for superusers).
SUPERUSER_ONLY_KINDS = {
    "access_log": "Only the portal's administrators set how long the access log is kept.",
    "participants": "Only the portal's administrators set when people are erased: it erases the "
    "whole account, with its records at every hub.",
}


class RetentionRuleForm(forms.ModelForm):
    superuser = False  # set by RetentionRuleAdmin.get_form

    class Meta:
        model = RetentionRule
        fields = ("kind", "hub", "period", "unit", "enabled")

    def clean(self):
        data = super().clean()
        kind, hub = data.get("kind"), data.get("hub")
        if hub is not None and kind and (kind not in SCHEDULES or SCHEDULES[kind].hub_path is None):
            self.add_error("hub", "This kind of record is not a hub's: only the portal's rule applies.")
        elif kind in SUPERUSER_ONLY_KINDS and not self.superuser:
            self.add_error("kind", SUPERUSER_ONLY_KINDS[kind])
        return data


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    form = RetentionRuleForm
    list_display = ("kind_words", "hub", "kept_for", "event", "enabled")
    list_filter = ("kind",)
    change_list_template = "admin/privacy/retentionrule/change_list.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.superuser = request.user.is_superuser
        return form

    @admin.display(description="Kind of record", ordering="kind")
    def kind_words(self, obj: RetentionRule) -> str:
        return obj.get_kind_display()

    @admin.display(description="Kept for")
    def kept_for(self, obj: RetentionRule) -> str:
        return f"{obj.period} {obj.get_unit_display()}"

    @admin.display(description="After")
    def event(self, obj: RetentionRule) -> str:
        return KINDS[obj.kind].event if obj.kind in KINDS else ""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request).select_related("hub")
        if request.user.is_superuser:
            return rows
        return rows.filter(hub__in=hub_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "hub" and not request.user.is_superuser:
            kwargs["queryset"] = Hub.objects.filter(pk__in=hub_ids(request))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Superusers set the portal's rules; a hub's administrators their own hub's.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or is_hub_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        return is_hub_admin(request) and (
            obj is None
            or (
                obj.hub_id is not None
                and obj.hub_id in hub_ids(request)
                and obj.kind not in SUPERUSER_ONLY_KINDS
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_change_permission(request, obj) and (obj is None or obj.hub_id is not None)

    def get_urls(self):
        return [
            path(
                "next-month/",
                self.admin_site.admin_view(self.report_view),
                name="privacy_retentionrule_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """What the nightly job will remove within the next month (superusers: it counts every
        hub's records)."""
        if not request.user.is_superuser:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "What the retention schedule removes in the next month",
            "rows": retention_report(now=timezone.now()),
            "runs": RetentionRun.objects.all()[:20],
        }
        return TemplateResponse(request, "admin/privacy/retention_report.html", context)
