"""Admin of people: participants (enrolments), hub staff memberships and places freed by withdrawals."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import path
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User

from .. import admin_views
from ..admin_filters import NameSearchFilter, scoped_filter
from ..models import FreedPlace, HubMembership, Participant
from ..services import (
    EnrolmentError,
    hub_membership_add,
    membership_change,
    membership_end,
    participant_enrol,
    validate_enrolment,
)
from .base import HubScopedAdmin, ReadOnlyMixin, group_name


class ParticipantAddForm(forms.ModelForm):
    """Enrol someone who has an account, found by their email address (no list of all users)."""

    email = forms.EmailField(help_text="The email address the participant signs in with.")

    class Meta:
        model = Participant
        fields = ("course", "group", "trn", "mentor_name", "mentor_email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(
                "No account uses this email address; ask the participant to create one."
            )
        self.instance.user = user
        return email

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                validate_enrolment(user=self.instance.user, course=data["course"], group=data.get("group"))
            except EnrolmentError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


class StillToOfferFilter(admin.SimpleListFilter):
    title = "offer"
    parameter_name = "offer"

    def lookups(self, request, model_admin):
        return [("open", "Still to offer"), ("settled", "Settled")]

    def queryset(self, request, queryset):
        if self.value() in ("open", "settled"):
            return queryset.filter(settled_at__isnull=self.value() == "open")
        return queryset


class NeedsGroupFilter(admin.SimpleListFilter):
    """Participants accepted onto a course that had no group yet: staff place them in one."""

    title = "group place"
    parameter_name = "group_place"

    def lookups(self, request, model_admin):
        return [("needs", "Needs a group")]

    def queryset(self, request, queryset):
        if self.value() == "needs":
            return queryset.filter(group__isnull=True, status__in=Participant.LIVE_STATUSES)
        return queryset


@admin.register(Participant)
class ParticipantAdmin(HubScopedAdmin, SimpleHistoryAdmin):
    list_display = ("user", "trn", "course", group_name, "status", "status_changed_on")
    # Newest first, in primary-key order: the model's order goes through joins and sorted
    # every row of the hub for each page.
    ordering = ("-pk",)
    list_select_related = ("user", "course__programme", "course__cohort", "group")
    list_filter = (
        ("course__cohort", scoped_filter),
        ("course__programme", scoped_filter),
        ("group__name", NameSearchFilter),
        NeedsGroupFilter,
        "status",
    )
    search_fields = ("user__email", "user__full_name", "trn")
    readonly_fields = (
        "user",
        "course",
        "group",
        "status",
        "status_reason",
        "status_changed_on",
        "enrolled_at",
    )
    change_form_template = "admin/programmes/participant/change_form.html"
    csv_columns = (
        ("Email", "user.email"),
        ("Name", "user.full_name"),
        ("TRN", "trn"),
        ("Programme", "course.programme.code"),
        ("Cohort", "course.cohort.identifier"),
        ("Group", "group.name"),
        ("Status", "status"),
        ("Reason", "status_reason"),
        ("Status changed", "status_changed_on"),
        ("Mentor", "mentor_name"),
        ("Mentor email", "mentor_email"),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ParticipantAddForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("email", "course", "group", "trn", "mentor_name", "mentor_email")
        return (
            "user",
            "trn",
            "course",
            "group",
            "status",
            "status_reason",
            "status_changed_on",
            "mentor_name",
            "mentor_email",
            "enrolled_at",
        )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = participant_enrol(
            user=obj.user,
            course=obj.course,
            group=obj.group,
            trn=obj.trn,
            mentor_name=obj.mentor_name,
            mentor_email=obj.mentor_email,
            by=request.user,
        )
        obj.pk = created.pk

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:participant_id>/status/<str:change>/",
                view(admin_views.ParticipantStatusView.as_view(model_admin=self)),
                name="programmes_participant_status",
            ),
            *super().get_urls(),
        ]

    def has_delete_permission(self, request, obj=None):
        # Enrolments are withdrawn, never deleted, so that history and funding rules hold.
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(HubMembership)
class HubMembershipAdmin(HubScopedAdmin):
    list_display = ("user", "hub", "role")
    list_select_related = ("user", "hub")
    list_filter = ("role",)
    search_fields = ("user__email", "hub__name")
    autocomplete_fields = ("user",)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if change:
            membership = membership_change(
                membership=obj, hub=obj.hub, user=obj.user, role=obj.role, by=request.user
            )
        else:
            membership = hub_membership_add(hub=obj.hub, user=obj.user, role=obj.role)
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        membership_end(membership=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            membership_end(membership=membership, by=request.user)


@admin.register(FreedPlace)
class FreedPlaceAdmin(ReadOnlyMixin, HubScopedAdmin):
    """Places freed by withdrawals and what became of each: offered to the first in line, or why
    not (still open while, say, every group is full; the sweep offers it once there is room)."""

    list_display = ("course", "freed_at", "still_to_offer", "outcome")
    list_select_related = ("course__programme", "course__cohort")
    list_filter = (StillToOfferFilter,)
    readonly_fields = ("course", "participant", "freed_at", "settled_at", "outcome")

    @admin.display(description="still to offer", boolean=True)
    def still_to_offer(self, obj: FreedPlace) -> bool:
        return obj.settled_at is None
