"""Staff run assessment windows in admin: entries, access, extensions, markers, moderation, release."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q
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
from .models import LONDON, AssessmentWindow, Entry, MarkingAssignment
from .services import (
    AssessmentError,
    entry_extend,
    entry_grant_access,
    markers_assign,
    marking_overdue,
    marking_pool_size,
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
    markers = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False)
    moderator = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    share = forms.FloatField(
        required=False, min_value=0, max_value=1, help_text="Share of passes to moderate, e.g. 0.1"
    )


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
        staff = User.objects.filter(hub_memberships__hub=window.course.cohort.hub, is_active=True).distinct()
        form = StaffChoiceForm(request.POST or None)
        form.fields["markers"].queryset = staff
        form.fields["moderator"].queryset = staff
        if request.method == "POST" and self.has_change_permission(request, window) and form.is_valid():
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
        counts = window.entries.aggregate(
            entries=Count("pk"),
            with_access=Count("pk", filter=Q(access__in=["engagement", "granted"])),
            submitted=Count("pk", filter=Q(submissions__isnull=False), distinct=True),
        )
        marking = (
            MarkingAssignment.objects.filter(entry__window=window)
            .values("role")
            .annotate(total=Count("pk"), marked=Count("pk", filter=~Q(result="")))
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Assessment: {window.course}",
            "window": window,
            "counts": counts,
            "marking": list(marking),
            "form": form,
            "overdue": marking_overdue(window),
            "pool": marking_pool_size(window=window),
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
    list_select_related = ("participant__user", "window__course__programme", "window__course__cohort")
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
