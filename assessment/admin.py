"""Staff run assessment windows in admin: entries, access, extensions, markers, moderation, release."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from accounts.models import User
from programmes.admin import HubScopedAdmin
from programmes.selectors import register_scope

from .documents import kind_of, max_upload_bytes, too_large_message
from .models import LONDON, AssessmentWindow, Entry
from .selectors import window_overview
from .services import (
    AssessmentError,
    entry_extend,
    entry_grant_access,
    markers_assign,
    marking_overdue,
    moderation_sample,
    results_release,
    window_open_entries,
)

register_scope(AssessmentWindow, hub_path="course__cohort__hub")
register_scope(Entry, hub_path="window__course__cohort__hub")


class AssessmentWindowForm(forms.ModelForm):
    class Meta:
        model = AssessmentWindow
        fields = ("course", "opens_on", "case_study_title", "case_study_text", "case_study_file")

    def clean_case_study_file(self):
        """A .docx or PDF by its bytes, stored under a name of our making with that extension."""
        upload = self.cleaned_data.get("case_study_file")
        if not isinstance(upload, UploadedFile):
            return upload  # unchanged or cleared
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(too_large_message())
        kind = kind_of(upload.read(8))
        upload.seek(0)
        if kind is None:
            raise forms.ValidationError("The case study must be a Word document (.docx) or a PDF.")
        upload.name = f"{uuid.uuid4().hex}.{kind}"
        return upload


class StaffChoiceForm(forms.Form):
    """Markers and a moderator from the hub's active staff (read once, for both lists)."""

    markers = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Markers",
        help_text="Hold Ctrl (Cmd on a Mac) to choose more than one.",
        error_messages={"invalid_choice": "Choose markers from the hub's staff"},
    )
    moderator = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Moderator",
        error_messages={"invalid_choice": "Choose a moderator from the hub's staff"},
    )
    share = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Share of passes to moderate",
        help_text="A number from 0 to 1: 0.1 moderates one pass in ten. Leave empty for the usual share.",
        error_messages={
            "invalid": "Enter the share as a number from 0 to 1, like 0.1",
            "min_value": "The share must be 0 or more",
            "max_value": "The share must be 1 or less",
        },
    )

    def __init__(self, *args, staff: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = {user.pk: user for user in staff}
        choices = [(user.pk, _staff_label(user)) for user in staff]
        self.fields["markers"].choices = choices
        self.fields["moderator"].choices = [("", "Choose a moderator"), *choices]

    def clean_markers(self) -> list[User]:
        return [self.staff[pk] for pk in self.cleaned_data["markers"]]

    def clean_moderator(self) -> User | None:
        pk = self.cleaned_data["moderator"]
        return self.staff[pk] if pk is not None else None


def _staff_label(user: User) -> str:
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


@admin.register(AssessmentWindow)
class AssessmentWindowAdmin(HubScopedAdmin):
    list_display = ("course", "opens_on", "closes", "marking_due", "released", "manage_link")
    list_select_related = ("course__programme", "course__cohort")
    form = AssessmentWindowForm
    fields = ("course", "opens_on", "case_study_title", "case_study_text", "case_study_file")

    @admin.display(description="Closes")
    def closes(self, obj: AssessmentWindow) -> str:
        return f"{obj.closes_at:%-d %b %Y %H:%M} (London)"

    @admin.display(description="Marking due")
    def marking_due(self, obj: AssessmentWindow) -> str:
        return f"{obj.marking_due_on:%-d %b %Y}{' – OVERDUE' if marking_overdue(obj) else ''}"

    @admin.display(description="Results released", boolean=True)
    def released(self, obj: AssessmentWindow) -> bool:
        return obj.results_released_at is not None

    @admin.display(description="")
    def manage_link(self, obj: AssessmentWindow) -> str:
        return format_html(
            '<a href="{}">Manage</a>', reverse("admin:assessment_window_manage", args=[obj.pk])
        )

    def get_changeform_initial_data(self, request):
        return {}

    def save_model(self, request, obj, form, change):
        if not change and not obj.opens_on:
            obj.opens_on = obj.course.delivery_end
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "<int:pk>/manage/",
                self.admin_site.admin_view(self.manage_view),
                name="assessment_window_manage",
            ),
            *super().get_urls(),
        ]

    def manage_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        window = get_object_or_404(
            self.get_queryset(request).select_related("course__programme", "course__cohort__hub"), pk=pk
        )
        staff = list(
            User.objects.filter(hub_memberships__hub=window.course.cohort.hub, is_active=True)
            .distinct()
            .order_by("full_name", "email")
        )
        form = StaffChoiceForm(request.POST or None, staff=staff)
        can_change = self.has_change_permission(request, window)
        if request.method == "POST" and can_change and form.is_valid():
            action = request.POST.get("action")
            try:
                if action == "open":
                    made = window_open_entries(window=window)
                    messages.success(request, ngettext("%d entry made.", "%d entries made.", made) % made)
                elif action == "assign":
                    given = markers_assign(window=window, markers=list(form.cleaned_data["markers"]))
                    messages.success(
                        request,
                        ngettext("%d script given to markers.", "%d scripts given to markers.", given)
                        % given,
                    )
                elif action == "moderate":
                    count = moderation_sample(
                        window=window,
                        moderator=form.cleaned_data["moderator"],
                        share_of_passes=form.cleaned_data["share"],
                    )
                    messages.success(
                        request,
                        ngettext("%d script sent for moderation.", "%d scripts sent for moderation.", count)
                        % count,
                    )
                elif action == "release":
                    released = results_release(window=window, by=request.user)
                    messages.success(
                        request, ngettext("%d result released.", "%d results released.", released) % released
                    )
            except AssessmentError as exc:
                messages.error(request, str(exc))
            return redirect(reverse("admin:assessment_window_manage", args=[pk]))
        overview = window_overview(window=window)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Run the assessment of {window.course}",
            "window": window,
            "overview": overview,
            "form": form,
            "can_change": can_change,
            "overdue": marking_overdue(window),
        }
        return TemplateResponse(request, "admin/assessment/window_manage.html", context)


class EntryForm(forms.ModelForm):
    grant_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="To grant access in exceptional circumstances, give the reason.",
    )
    extend_to = forms.DateField(required=False, help_text="Extend to 23:59 on this date (London).")
    extension_reason_text = forms.CharField(required=False, label="Extension reason")
    new_headteacher = forms.BooleanField(
        required=False, help_text="NPQH extension for teachers new to headship (up to 6 months)."
    )

    class Meta:
        model = Entry
        fields = ()


@admin.register(Entry)
class EntryAdmin(HubScopedAdmin):
    form = EntryForm
    list_display = ("participant", "window", "access", "engagement_at_opening", "extended_until")
    # What the row's names read (the participant's course too): no query per row.
    list_select_related = (
        "participant__user",
        "participant__course__programme",
        "participant__course__cohort",
        "window__course__programme",
        "window__course__cohort",
    )
    list_filter = ("access",)
    search_fields = ("participant__user__email", "participant__trn")
    readonly_fields = (
        "participant",
        "window",
        "access",
        "engagement_at_opening",
        "access_reason",
        "extended_until",
        "extension_reason",
    )
    fields = (*readonly_fields, "grant_reason", "extend_to", "extension_reason_text", "new_headteacher")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if data.get("grant_reason"):
                entry_grant_access(entry=obj, reason=data["grant_reason"], by=request.user)
            if data.get("extend_to"):
                until = datetime.combine(data["extend_to"], time(23, 59, 59), tzinfo=LONDON)
                entry_extend(
                    entry=obj,
                    until=until,
                    reason=data.get("extension_reason_text", ""),
                    by=request.user,
                    new_headteacher=data.get("new_headteacher", False),
                )
        except AssessmentError as exc:
            messages.error(request, str(exc))
