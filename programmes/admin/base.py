"""The admin every hub-scoped list builds on: scoping, CSV export, read-only records."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html

from accounts.models import User
from common.csv_export import csv_response

from ..models import Hub
from ..selectors import HUB_PATHS, administered, may_change
from ..staff_scope import visible_in_request


@admin.action(description="Export selected rows as CSV")
def export_as_csv(modeladmin: HubScopedAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
    """CSV of the selected rows (already limited to the user's scope by the changelist)."""
    columns = modeladmin.csv_columns
    rows = queryset.select_related(*modeladmin.list_select_related or ())
    return csv_response(
        f"{modeladmin.model._meta.verbose_name_plural.replace(' ', '-')}.csv",
        [header for header, _ in columns],
        ([_csv_value(modeladmin, row, path) for _, path in columns] for row in rows),
    )


def _csv_value(modeladmin: admin.ModelAdmin, row: object, dotted: str) -> object:
    """A column: a method of the admin taking the row (as in ``list_display``), or a dotted path
    on the row. A name that is neither is an error, not an empty column."""
    display = getattr(modeladmin, dotted, None)
    if callable(display) and not hasattr(admin.ModelAdmin, dotted):
        return display(row)
    value = row
    for part in dotted.split("."):
        try:
            value = getattr(value, part)
        except ObjectDoesNotExist:  # a missing one-to-one row: an empty cell
            return None
        if value is None:
            return None
        if callable(value):
            value = value()
    return value


@admin.display(description="Group", ordering="group__name")
def group_name(obj) -> str:
    return obj.group.name if obj.group_id else "Whole course"


class ReadOnlyMixin:
    """Records kept as they were made (logs, evidence, DfE's answers): seen in admin, never changed there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HubScopedAdmin(admin.ModelAdmin):
    """Rows, choices and lookups limited to what ``request.user`` may see."""

    csv_columns: Sequence[tuple[str, str]] = ()
    actions = (export_as_csv,)

    # Lists stay as fast at 100,000 rows as at 10: the unfiltered total would count every row
    # of the hub again on each page (the filtered count is still shown).
    show_full_result_count = False
    # Fifty rows a page: each row is Python's work to render (a hundred took most of the time
    # of a list page); staff narrow lists with the filters and the search.
    list_per_page = 50

    def action_checkbox(self, obj) -> str:
        """Django's row checkbox, with its label, written directly: rendering a form widget's
        template for every row cost more than the row's query."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html("Select this object for an action - {}", str(obj)),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return visible_in_request(super().get_queryset(request), request)

    # Seeing a row (as a facilitator) is not changing it: writes need the row's hub administered.
    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change(obj, request.user))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change(obj, request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model in HUB_PATHS:
            # Forms write: offer only rows of the hubs the user administers.
            kwargs["queryset"] = administered(db_field.related_model._default_manager.all(), request.user)
        elif db_field.related_model is User and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is User and not request.user.is_superuser:
            # Only staff of the hubs the user administers can be chosen as facilitators.
            kwargs["queryset"] = User.objects.filter(
                hub_memberships__hub__in=administered(Hub.objects.all(), request.user)
            ).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # django-simple-history's pages look rows up by id themselves: keep them in scope, and
    # never revert from them (a revert would bypass the services and their counters).
    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        self._object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context=None):
        self._object_or_404(request, object_id)
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def _object_or_404(self, request: HttpRequest, object_id: str):
        # get_object answers None for an id that is not one ('²', a NUL), not a 500.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        return obj

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not self.csv_columns:
            actions.pop("export_as_csv", None)
        return actions
