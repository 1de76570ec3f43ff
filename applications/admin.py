"""Hub decisions in admin: the queue of endorsed applications, accept / waitlist / reject."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from npq_portal.admin_accessibility import LabelledTabularInline
from programmes.admin import HubScopedAdmin, export_as_csv, scoped_filter
from programmes.models import Group
from programmes.selectors import register_scope, visible_to

from .endorsement_checks import address_summary, application_check, current_endorsement, with_address_checks
from .models import Application, Endorsement, Transition
from .services import (
    ApplicationError,
    application_accept,
    application_reject,
    application_waitlist,
    endorsement_domain_confirm,
    endorsement_request_again,
)

register_scope(Application, hub_path="cohort__hub")


class TransitionInline(LabelledTabularInline):
    model = Transition
    extra = 0
    fields = ("from_status", "to_status", "by", "at", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EndorsementInline(LabelledTabularInline):
    model = Endorsement
    extra = 0
    fields = (
        "kind",
        "endorser_name",
        "endorser_email",
        "endorser_domain",
        "domain_concern",
        "domain_confirmed_by",
        "domain_confirmed_at",
        "sent_at",
        "expires_at",
        "replaced_at",
        "decision",
        "reason",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Reason (the applicant sees this)"
    )


class AskAgainForm(forms.Form):
    name = forms.CharField(label="Endorser's full name", max_length=200)
    email = forms.EmailField(
        label="Endorser's email address",
        help_text="Their school or work address. The earlier link stops working at once.",
    )


CONCERNS = [c for c in Endorsement.DomainConcern.values if c]


class EndorserAddressFilter(admin.SimpleListFilter):
    title = "endorser's address"
    parameter_name = "endorser_address"

    def lookups(self, request, model_admin):
        return [
            ("check", "Needs checking"),
            ("confirmed", "Checked by staff"),
            ("fine", "No concern"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "check":
            return queryset.filter(
                endorser_address_concern__in=CONCERNS, endorser_address_confirmed_at__isnull=True
            )
        if self.value() == "confirmed":
            return queryset.filter(
                endorser_address_concern__in=CONCERNS, endorser_address_confirmed_at__isnull=False
            )
        if self.value() == "fine":
            return queryset.exclude(endorser_address_concern__in=CONCERNS)
        return queryset


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
        "endorser_address",
        "submitted_at",
    )
    list_select_related = ("user", "course__programme", "course__cohort", "funding_decision")
    list_filter = (
        "status",
        EndorserAddressFilter,
        ("course__programme", scoped_filter),
        ("cohort", scoped_filter),
    )
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

    @admin.display(description="Endorser's address")
    def endorser_address(self, obj: Application) -> str:
        return address_summary(obj)

    def get_queryset(self, request):
        return with_address_checks(super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        application = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        if application is not None:
            extra_context = {**(extra_context or {}), "address_check": application_check(application)}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _run(self, request, queryset, service, done: str, *, skip_unchecked: bool = False) -> None:
        succeeded = 0
        for application in queryset.order_by("submitted_at", "pk"):
            check = application_check(application) if skip_unchecked else None
            if check is not None and check.needs_checking:
                messages.error(
                    request,
                    f"NPQ-{application.pk:06d} was not accepted: the endorser's address needs checking "
                    f"({check.reason}). Open the application to confirm the "
                    "endorsement or ask for it again.",
                )
                continue
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
        self._run(request, queryset, application_accept, "accepted", skip_unchecked=True)

    @admin.action(description="Put selected applications on the waiting list", permissions=["change"])
    def waitlist_selected(self, request, queryset):
        self._run(request, queryset, application_waitlist, "put on the waiting list")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/accept/", view(self.accept_view), name="applications_application_accept"),
            path("<int:pk>/reject/", view(self.reject_view), name="applications_application_reject"),
            path(
                "<int:pk>/endorsement/confirm/",
                view(self.confirm_endorser_view),
                name="applications_application_confirm_endorser",
            ),
            path(
                "<int:pk>/endorsement/ask-again/",
                view(self.ask_again_view),
                name="applications_application_ask_again",
            ),
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

    def confirm_endorser_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Staff checked with the school that the address is the endorser's."""
        application = self._object(request, pk)
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            endorsement = current_endorsement(application)
            try:
                if endorsement is None:
                    raise ApplicationError("This application has no endorsement request to confirm.")
                endorsement_domain_confirm(endorsement=endorsement, by=request.user)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"You confirmed {endorsement.endorser_email} as the endorser.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Confirm the endorser")

    def ask_again_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        form = AskAgainForm(
            request.POST or None,
            initial={"name": application.endorser_name, "email": application.endorser_email},
        )
        if request.method == "POST" and form.is_valid():
            try:
                endorsement = endorsement_request_again(
                    application=application,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    by=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"We have emailed {endorsement.endorser_email} a new link. The earlier link no longer works.",
                )
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Ask for the endorsement again")

    def _page(self, request, application, form, label) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"{label}: NPQ-{application.pk:06d}",
            "form": form,
            "action_label": label,
            "address_check": application_check(application),
        }
        return TemplateResponse(request, "admin/applications/application/decision.html", context)
