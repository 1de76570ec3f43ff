"""Evidence in admin: read, never changed (a correction is a new record), with whether it is
unchanged since it was recorded (its content hash) and what it holds, in words."""

from __future__ import annotations

from django.contrib import admin

from programmes.admin import HubScopedAdmin, ReadOnlyMixin
from programmes.selectors import register_scope

from ..declarations import evidence_intact
from ..models import Evidence

register_scope(Evidence, hub_path="participant__course__cohort__hub")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyMixin, HubScopedAdmin):
    """Evidence is read, never changed (a correction is a new record)."""

    list_display = ("participant", "declaration_type", "met", "made_at", "made_by")
    list_select_related = ("participant__user", "participant__course", "made_by")
    fields = (
        "participant",
        "declaration_type",
        "met",
        "in_words",
        "content_hash",
        "intact",
        "made_at",
        "made_by",
        "replaces",
    )
    readonly_fields = fields

    @admin.display(description="Unchanged since it was recorded", boolean=True)
    def intact(self, obj: Evidence) -> bool:
        return evidence_intact(obj)

    @admin.display(description="What it holds")
    def in_words(self, obj: Evidence):
        from django.template.loader import render_to_string

        return render_to_string("admin/dfe/declaration/evidence_content.html", {"content": obj.content})
