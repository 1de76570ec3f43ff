"""The access log: who viewed and exported whose records (a hub's administrators see their hub's
entries)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import AccessLogEntry
from .scope import hub_ids, is_hub_admin


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "by", "action", "what", "person", "hub", "rows")
    list_filter = ("action",)
    list_select_related = ("by", "person", "hub")
    search_fields = ("by__email", "person__email", "what")
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(hub__in=hub_ids(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or is_hub_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
