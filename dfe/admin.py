"""DfE's side in admin: where each DfE application stands, the changes sent to DfE, the sync runs,
and the lead provider's DfE account (token, delivery partners, cohorts)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from programmes.admin import HubScopedAdmin, ReadOnlyMixin
from programmes.selectors import administered, may_change, register_scope
from programmes.services import EnrolmentError

from .crypto import TokenKeyMissing, encrypt_token
from .identifiers import schedules_for
from .models import (
    DeliveryPartner,
    DfeApplication,
    DfeCohort,
    DfeWrite,
    LeadProviderAccount,
    LeadProviderStaff,
    SyncRun,
)
from .selectors import (
    TRAINING_STATUSES,
    change_words,
    programme_name,
    schedule_words,
    standing,
    visible_dfe_applications,
    with_last_write,
)
from .services import (
    lead_provider_staff_add,
    lead_provider_staff_remove,
    participant_change_schedule,
    token_set,
)
from .writes import record_write

register_scope(DfeApplication, hub_path="application__cohort__hub")
register_scope(DfeWrite, hub_path="dfe_application__application__cohort__hub")
register_scope(DeliveryPartner, hub_path="hub")
register_scope(DfeCohort, hub_path="cohort__hub")


class ScheduleForm(forms.Form):
    schedule = forms.ChoiceField(label="New schedule", widget=forms.RadioSelect)

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schedule"].choices = choices


@admin.register(DfeApplication)
class DfeApplicationAdmin(ReadOnlyMixin, HubScopedAdmin):
    """One list of where each application from DfE stands."""

    list_display = ("full_name", "npq", "dfe_cohort", "where_it_stands", "dfe_updated_at")
    list_filter = ("status",)
    search_fields = ("full_name", "email", "trn")
    list_select_related = ("application",)
    fields = (
        "full_name",
        "email",
        "trn",
        "npq",
        "dfe_cohort",
        "status",
        "where_it_stands",
        "funded_place",
        "schedule",
        "training",
        "application",
        "invited_at",
        "dfe_updated_at",
        "dfe_id",
        "participant_id",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        base = DfeApplication.objects.all()
        scoped = super().get_queryset(request)
        return with_last_write(visible_dfe_applications(base, request.user, scoped)).select_related(
            "application"
        )

    @admin.display(description="NPQ")
    def npq(self, obj: DfeApplication) -> str:
        return programme_name(obj)

    @admin.display(description="DfE cohort")
    def dfe_cohort(self, obj: DfeApplication) -> str:
        return f"{obj.cohort}{obj.cohort_suffix if obj.cohort_suffix != 'a' else ''}"

    @admin.display(description="Where it stands")
    def where_it_stands(self, obj: DfeApplication) -> str:
        return standing(obj)

    @admin.display(description="Schedule at DfE")
    def schedule(self, obj: DfeApplication) -> str:
        words = schedule_words(obj.schedule_identifier)
        if obj.pk and self._may_change_schedule(obj):
            url = reverse("admin:dfe_dfeapplication_schedule", args=[obj.pk])
            return format_html('{} (<a href="{}">change the schedule at DfE</a>)', words, url)
        return words

    @staticmethod
    def _may_change_schedule(obj: DfeApplication) -> bool:
        application = obj.application
        return bool(
            obj.status == DfeApplication.Status.ACCEPTED
            and application is not None
            and application.participant_id is not None
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/change-schedule/",
                self.admin_site.admin_view(self.schedule_view),
                name="dfe_dfeapplication_schedule",
            ),
            *super().get_urls(),
        ]

    def schedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Tell DfE the participant follows another schedule (for hubs the user administers)."""
        obj = get_object_or_404(self.get_queryset(request).select_related("application__participant"), pk=pk)
        if not self._may_change_schedule(obj) or not may_change(obj, request.user):
            raise PermissionDenied
        choices = [(s, schedule_words(s)) for s in schedules_for(obj.course_identifier)]
        form = ScheduleForm(request.POST or None, choices=choices)
        if request.method == "POST" and form.is_valid():
            try:
                participant_change_schedule(
                    participant=obj.application.participant,
                    schedule_identifier=form.cleaned_data["schedule"],
                    by=request.user,
                )
            except EnrolmentError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, "The new schedule is being sent to DfE.", messages.SUCCESS)
                return redirect(reverse("admin:dfe_dfeapplication_change", args=[obj.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change the schedule at DfE: {obj.full_name}",
            "opts": self.model._meta,
            "original": obj,
            "form": form,
            "now": schedule_words(obj.schedule_identifier),
        }
        return TemplateResponse(request, "admin/dfe/dfeapplication/change_schedule.html", context)

    @admin.display(description="Training at DfE")
    def training(self, obj: DfeApplication) -> str:
        return TRAINING_STATUSES.get(obj.training_status, obj.training_status)


@admin.register(DfeWrite)
class DfeWriteAdmin(ReadOnlyMixin, HubScopedAdmin):
    list_display = ("dfe_application", "action", "state", "error", "attempts", "created_at")
    actions = ("send_again",)

    @admin.display(description="What was sent")
    def what_was_sent(self, obj: DfeWrite) -> str:
        return change_words(obj)

    @admin.action(description="Send again (changes DfE refused, once put right)", permissions=["view"])
    def send_again(self, request: HttpRequest, queryset) -> None:
        """A refused change is sent again as a new change (the refusal stays in the list), for the
        hubs the user administers; the accept's funded place and schedule are read afresh."""
        refused = administered(queryset, request.user).filter(state=DfeWrite.State.REFUSED)
        again = 0
        with transaction.atomic():
            for write in refused.select_related("dfe_application"):
                payload = {} if write.action == DfeWrite.Action.ACCEPT else write.payload
                record_write(
                    dfe_application=write.dfe_application,
                    action=write.action,
                    payload=payload,
                    by=request.user,
                )
                again += 1
        self.message_user(
            request,
            ngettext("%d change sent to DfE again.", "%d changes sent to DfE again.", again) % again
            if again
            else "Nothing to send again: choose changes DfE refused, at hubs you administer.",
            messages.SUCCESS if again else messages.WARNING,
        )

    list_filter = ("state", "action")
    list_select_related = ("dfe_application",)
    fields = (
        "dfe_application",
        "action",
        "state",
        "what_was_sent",
        "error",
        "attempts",
        "created_at",
        "created_by",
        "last_attempt_at",
        "done_at",
    )
    readonly_fields = fields


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "lead_provider",
        "started_at",
        "finished_at",
        "pulled",
        "created",
        "updated",
        "failed",
        "error",
    )
    list_select_related = ("lead_provider",)

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(lead_provider__staff__user=request.user)


class AccountForm(forms.ModelForm):
    token = forms.CharField(
        label="New DfE API token",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; never shown again. Leave empty to keep the current token.",
    )

    class Meta:
        model = LeadProviderAccount
        fields = ("lead_provider", "applications_cursor")

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if token and not (token.isascii() and token.isprintable() and " " not in token):
            # It goes in an HTTP header: anything else made every sync fail, never saying why.
            raise forms.ValidationError(
                "The token has a character DfE tokens never have: copy it again, with only "
                "letters, digits and signs, no quotes or spaces"
            )
        if token:
            try:
                encrypt_token(token)  # the key must be there (and valid) before anything is saved
            except TokenKeyMissing as exc:
                raise forms.ValidationError(str(exc)) from exc
        return token


@admin.register(LeadProviderAccount)
class LeadProviderAccountAdmin(admin.ModelAdmin):
    """A lead provider's DfE token: its staff change it, a superuser adds the account."""

    form = AccountForm
    list_display = ("lead_provider", "token_held", "token_set_at", "applications_cursor")

    def get_fields(self, request, obj=None):
        return ("lead_provider", "token", "token_set_at", "applications_cursor")

    def get_readonly_fields(self, request, obj=None):
        return ("token_set_at",) if obj is None else ("lead_provider", "token_set_at")

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("lead_provider")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(lead_provider__staff__user=request.user)

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="Token held", boolean=True)
    def token_held(self, obj: LeadProviderAccount) -> bool:
        return obj.has_token

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        token = form.cleaned_data.get("token")
        if token:
            token_set(lead_provider=obj.lead_provider, token=token)


@admin.register(DeliveryPartner)
class DeliveryPartnerAdmin(HubScopedAdmin):
    list_display = ("hub", "dfe_cohort", "delivery_partner_id")
    list_select_related = ("hub",)


@admin.register(DfeCohort)
class DfeCohortAdmin(HubScopedAdmin):
    list_display = ("cohort", "start_year", "suffix")
    list_select_related = ("cohort__hub",)


@admin.register(LeadProviderStaff)
class LeadProviderStaffAdmin(admin.ModelAdmin):
    """Superusers name a lead provider's staff: they administer every hub of the provider."""

    list_display = ("user", "lead_provider")
    list_select_related = ("user", "lead_provider")
    autocomplete_fields = ("user",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        obj.pk = lead_provider_staff_add(lead_provider=obj.lead_provider, user=obj.user).pk

    def delete_model(self, request, obj):
        lead_provider_staff_remove(staff=obj)

    def delete_queryset(self, request, queryset):
        for staff in queryset:
            lead_provider_staff_remove(staff=staff)


# Declarations to DfE (issue 17): their own module, registered with the admin here.
from . import declarations_admin  # noqa: E402, F401
