"""Hub decisions in admin: the queue of endorsed applications, accept / waitlist / reject."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from programmes.admin import HubScopedAdmin, export_as_csv, scoped_filter
from programmes.models import Group
from programmes.selectors import register_scope, visible_to

from .models import Application, Endorsement, Transition
from .services import ApplicationError, application_accept, application_reject, application_waitlist

register_scope(Application, hub_path="cohort__hub")


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    fields = ("from_status", "to_status", "by", "at", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EndorsementInline(admin.TabularInline):
    model = Endorsement
    extra = 0
    fields = ("kind", "endorser_name", "endorser_email", "sent_at", "expires_at", "decision", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Reason (the applicant sees this)"
    )


class AcceptForm(forms.Form):
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(),
        required=False,
        help_text="Leave empty to use the first group with a free place.",
    )


@admin.register(Application)
class ApplicationAdmin(HubScopedAdmin):
    list_display = (
        "reference",
        "user",
        "full_name",
        "trn",
        "course",
        "status",
        "waitlist_position",
        "funding",
        "submitted_at",
    )
    list_select_related = ("user", "course__programme", "course__cohort", "funding_decision")
    list_filter = ("status", ("course__programme", scoped_filter), ("cohort", scoped_filter))
    search_fields = ("user__email", "full_name", "trn", "endorser_email")
    ordering = ("course", "waitlist_position", "submitted_at")
    readonly_fields = (
        "user",
        "cohort",
        "course",
        "status",
        "trn",
        "full_name",
        "date_of_birth",
        "workplace_name",
        "institution",
        "endorser_name",
        "endorser_email",
        "payment",
        "support_requested",
        "funding_decision",
        "waitlist_position",
        "decision_reason",
        "participant",
        "started_at",
        "submitted_at",
    )
    fields = readonly_fields
    inlines = (EndorsementInline, TransitionInline)
    actions = (export_as_csv, "accept_selected", "waitlist_selected")
    change_form_template = "admin/applications/application/change_form.html"
    csv_columns = (
        ("Reference", "reference"),
        ("Email", "user.email"),
        ("Name", "full_name"),
        ("TRN", "trn"),
        ("Programme", "course.programme.code"),
        ("Cohort", "cohort.identifier"),
        ("Status", "status"),
        ("Waiting list", "waitlist_position"),
        ("Funded", "funding_decision.effective_funded"),
        ("Funding reason", "funding_decision.effective_reason"),
        ("Submitted", "submitted_at"),
    )

    @admin.display(description="Reference", ordering="pk")
    def reference(self, obj: Application) -> str:
        return f"NPQ-{obj.pk:06d}"

    @admin.display(description="Funding")
    def funding(self, obj: Application) -> str:
        return obj.funding_decision.effective_reason if obj.funding_decision_id else "–"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, service, done: str) -> None:
        succeeded = 0
        for application in queryset.order_by("submitted_at", "pk"):
            try:
                service(application=application, by=request.user)
            except ApplicationError as exc:
                messages.error(request, f"NPQ-{application.pk:06d}: {exc}")
            else:
                succeeded += 1
        if succeeded:
            messages.success(request, f"{succeeded} application{'s' if succeeded != 1 else ''} {done}.")

    @admin.action(description="Accept selected applications (in order of submission)", permissions=["change"])
    def accept_selected(self, request, queryset):
        self._run(request, queryset, application_accept, "accepted")

    @admin.action(description="Put selected applications on the waiting list", permissions=["change"])
    def waitlist_selected(self, request, queryset):
        self._run(request, queryset, application_waitlist, "put on the waiting list")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/accept/", view(self.accept_view), name="applications_application_accept"),
            path("<int:pk>/reject/", view(self.reject_view), name="applications_application_reject"),
            *super().get_urls(),
        ]

    def _object(self, request: HttpRequest, pk: int) -> Application:
        from django.shortcuts import get_object_or_404

        application = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, application):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return application

    def accept_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        form = AcceptForm(request.POST or None)
        form.fields["group"].queryset = visible_to(
            Group.objects.filter(course_id=application.course_id), request.user
        )
        if request.method == "POST" and form.is_valid():
            try:
                application_accept(application=application, by=request.user, group=form.cleaned_data["group"])
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"NPQ-{application.pk:06d} accepted.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Accept")

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                application_reject(
                    application=application, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"NPQ-{application.pk:06d} not accepted.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Reject")

    def _page(self, request, application, form, label) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"{label}: NPQ-{application.pk:06d}",
            "form": form,
            "action_label": label,
        }
        return TemplateResponse(request, "admin/applications/application/decision.html", context)
