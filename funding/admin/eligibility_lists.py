"""Admin of DfE's eligibility lists: their entries, and the history of each list's replacements."""

from __future__ import annotations

import re

from django.contrib import admin
from django.db import connection
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from ..dfe_lists import list_name
from ..imports import identifier_names
from ..models import EligibilityListChange, EligibilityListEntry
from .common import SuperuserOnlyAdmin


@admin.register(EligibilityListEntry)
class EligibilityListEntryAdmin(SuperuserOnlyAdmin):
    list_display = ("identifier", "kind", "funding_round")
    list_select_related = ("funding_round",)
    list_filter = ("funding_round", "kind")
    search_fields = ("=identifier",)


@admin.register(EligibilityListChange)
class EligibilityListChangeAdmin(SuperuserOnlyAdmin):
    """The history of each list: every replacement with the settings it added and removed."""

    list_display = (
        "replaced_at",
        "list_name",
        "funding_round",
        "replaced_by",
        "added_count",
        "removed_count",
    )
    list_select_related = ("funding_round", "replaced_by")
    list_filter = ("funding_round", "kind")
    search_fields = ("=added", "=removed")
    fields = (
        "funding_round",
        "list_name",
        "replaced_at",
        "replaced_by",
        "import_run",
        "entries",
        "added_settings",
        "removed_settings",
    )
    readonly_fields = fields
    SHOWN = 500

    def get_search_results(self, request, queryset, search_term):
        """A URN, UKPRN or Ofsted URN: the replacements that added or removed it."""
        if not search_term.strip():
            return queryset, False
        # Identifiers are letters and digits: anything else (a NUL byte, say) finds nothing.
        term = search_term.strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{1,12}", term):
            return queryset.none(), False
        if connection.vendor == "postgresql":
            return queryset.filter(Q(added__contains=[term]) | Q(removed__contains=[term])), False
        pks = [c.pk for c in queryset.only("added", "removed") if term in c.added or term in c.removed]
        return queryset.filter(pk__in=pks), False

    def has_add_permission(self, request):
        return False  # made by imports only

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="List", ordering="kind")
    def list_name(self, obj: EligibilityListChange) -> str:
        return list_name(obj.kind)

    @admin.display(description="Added")
    def added_count(self, obj: EligibilityListChange) -> int:
        return len(obj.added)

    @admin.display(description="Removed")
    def removed_count(self, obj: EligibilityListChange) -> int:
        return len(obj.removed)

    @admin.display(description="Settings on the list")
    def entries(self, obj: EligibilityListChange) -> str:
        return f"{obj.entries_before:,} before, {obj.entries_after:,} after"

    def _settings(self, identifiers: list[str]) -> str:
        if not identifiers:
            return "None"
        shown = identifiers[: self.SHOWN]
        names = identifier_names(shown)
        items = format_html_join(
            "", "<li>{}{}</li>", ((i, f" – {names[i]}" if i in names else "") for i in shown)
        )
        more = len(identifiers) - len(shown)
        tail = format_html("<p>and {} more.</p>", f"{more:,}") if more > 0 else ""
        return format_html('<ul class="npq-list-changes">{}</ul>{}', items, tail)

    @admin.display(description="Added to the list")
    def added_settings(self, obj: EligibilityListChange) -> str:
        return self._settings(obj.added)

    @admin.display(description="Removed from the list")
    def removed_settings(self, obj: EligibilityListChange) -> str:
        return self._settings(obj.removed)
