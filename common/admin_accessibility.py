"""Admin helpers that keep Django admin's forms accessible (WCAG 2.2 AA)."""

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import Field
from django.forms import Field as FormField
from django.http import HttpRequest


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose inputs are named: the column heading is not a label, so each
    input gets its field's label as ``aria-label`` (axe rules ``label`` and ``select-name``)."""

    def formfield_for_dbfield(self, db_field: Field, request: HttpRequest, **kwargs) -> FormField | None:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            widget = formfield.widget
            if isinstance(widget, RelatedFieldWidgetWrapper):
                widget = widget.widget
            widget.attrs.setdefault("aria-label", str(formfield.label or db_field.verbose_name).capitalize())
        return formfield

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):
            def add_fields(self, form, index) -> None:
                super().add_fields(form, index)
                if "DELETE" in form.fields:
                    form.fields["DELETE"].widget.attrs["aria-label"] = "Delete this row"

        return LabelledFormSet
