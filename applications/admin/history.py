"""The application's history in admin: its endorsement requests and its status changes (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from common.admin_accessibility import LabelledTabularInline

from ..models import Endorsement, Transition


class ApplicationHistoryInline(LabelledTabularInline):
    """Read-only history on the application's page, for whoever may view the application (hub
    staff hold no permissions on these models of their own)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("applications.view_application")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransitionInline(ApplicationHistoryInline):
    model = Transition
    verbose_name_plural = "status history"
    fields = ("from_status", "to_status", "by", "at", "note")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class EndorsementInline(ApplicationHistoryInline):
    model = Endorsement
    verbose_name_plural = "endorsement requests"
    fields = ("kind", "endorser", "address_check", "sent", "link", "answer")
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's name reads the application, its user, course and cohort.
        return (
            super()
            .get_queryset(request)
            .select_related(
                "domain_confirmed_by",
                "application__user",
                "application__course__programme",
                "application__cohort",
            )
        )

    @admin.display(description="Endorser")
    def endorser(self, obj: Endorsement) -> str:
        return format_html("{}<br>{}", obj.endorser_name, obj.endorser_email)

    @admin.display(description="Address check")
    def address_check(self, obj: Endorsement) -> str:
        if not obj.domain_concern:
            return "No concern"
        words = obj.get_domain_concern_display()
        if obj.domain_confirmed_at:
            return format_html(
                "{}<br>Confirmed by {} on {}",
                words,
                obj.domain_confirmed_by or "a member of staff",
                _day(obj.domain_confirmed_at),
            )
        return format_html("{}<br><strong>Not checked yet</strong>", words)

    @admin.display(description="Sent")
    def sent(self, obj: Endorsement) -> str:
        return _day(obj.sent_at)

    @admin.display(description="Link")
    def link(self, obj: Endorsement) -> str:
        if obj.replaced_at:
            return f"Replaced on {_day(obj.replaced_at)}"
        if obj.used_at:
            return f"Used on {_day(obj.used_at)}"
        return f"Works until {_day(obj.expires_at)}"

    @admin.display(description="Answer")
    def answer(self, obj: Endorsement) -> str:
        if not obj.decision:
            return "Not answered"
        if obj.reason:
            return format_html("{}: {}", obj.get_decision_display(), obj.reason)
        return obj.get_decision_display()


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y") if moment else "–"
