"""List filters that stay small whatever the size of the hub.

A filter with a link per related row (a hub's 1,000 groups) made every list page render and
query all of them; these read only the rows the member of staff may choose from, or ask for a
name in a labelled box instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR

from .models import Course, Programme
from .selectors import HUB_PATHS
from .staff_scope import visible_in_request


class scoped_filter(admin.RelatedFieldListFilter):
    """Choices from the related rows the user may see (a hub's cohorts, courses), or for the
    shared list of programmes those of the courses they see: never a scan of the list's own
    rows, and labelled without a query per choice."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model._default_manager.all()
        if field.related_model in HUB_PATHS:
            related = visible_in_request(related, request)
        elif field.related_model is Programme:
            courses = visible_in_request(Course.objects.all(), request)
            related = related.filter(pk__in=courses.values("programme_id"))
        else:  # a relation outside the hubs: those present in the user's rows, as before
            rows = model_admin.get_queryset(request)
            related = related.filter(pk__in=rows.values(f"{self.field_path}__pk"))
        related = related.select_related(*getattr(field.related_model, "label_related", ()))
        return [(obj.pk, str(obj)) for obj in related]


class NameSearchFilter(admin.FieldListFilter):
    """For a relation with thousands of rows (a hub's groups): a labelled search box matching the
    related row's name, instead of a link for each row. Used on the name's path, as in
    ``("group__name", NameSearchFilter)``, titled by the related model."""

    template = "admin/name_search_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.parameter_name = f"{field_path}__icontains"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = field.model._meta.verbose_name
        value = self.used_parameters.get(self.parameter_name) or ""
        value = value[-1] if isinstance(value, list) else value
        # Control characters never appear in a name (and PostgreSQL refuses NUL outright).
        self.value = "".join(c for c in value if c.isprintable()).strip()[:100]
        if self.value:
            self.used_parameters[self.parameter_name] = [self.value]
        else:
            self.used_parameters.pop(self.parameter_name, None)

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name]

    def choices(self, changelist) -> Iterator[dict[str, Any]]:
        # The other filters, the search and the ordering stay when a name is looked for.
        kept = [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in (self.parameter_name, PAGE_VAR)
            for value in values
        ]
        yield {
            "selected": bool(self.value),
            "value": self.value,
            "parameter_name": self.parameter_name,
            "input_id": f"filter-{self.parameter_name.replace('__', '-')}",
            "title": self.title,
            "kept": kept,
            "clear_link": changelist.get_query_string(remove=[self.parameter_name, PAGE_VAR]),
        }
