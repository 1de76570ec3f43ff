"""What the funding admins share: summary lists in the admin's style, and the base of the
admins of national reference data that only superusers change."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..wording import facts_in_words


def summary_list(rows: list[tuple[str, str]], *, html_id: str = "") -> SafeString:
    """Rows of (label, value) as an admin-styled summary list (static/admin-portal/staff-pages.css)."""
    if not rows:
        return format_html('<p class="npq-summary-empty">{}</p>', "None recorded.")
    items = format_html_join(
        "",
        '<div class="npq-summary-list__row"><dt class="npq-summary-list__key">{}</dt>'
        '<dd class="npq-summary-list__value">{}</dd></div>',
        rows,
    )
    id_attr = format_html(' id="{}"', html_id) if html_id else ""
    return format_html('<dl class="npq-summary-list"{}>{}</dl>', id_attr, items)


def facts_summary(facts, *, html_id: str = "") -> SafeString:
    """A decision's facts in words, as a summary list."""
    return summary_list(facts_in_words(facts), html_id=html_id)


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """National reference data: hub staff may look, only superusers change it."""

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
