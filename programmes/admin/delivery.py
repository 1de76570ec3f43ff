"""Admin of the delivery model: lead providers, hubs, programmes, cohorts, courses and groups."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import ngettext

from common.admin_accessibility import LabelledTabularInline

from ..admin_filters import scoped_filter
from ..models import Cohort, Course, Group, Hub, HubMembership, LeadProvider, Programme
from ..services import hub_membership_add, membership_change, membership_end, sync_staff_access
from .base import HubScopedAdmin


@admin.register(LeadProvider)
class LeadProviderAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


class HubMembershipInline(LabelledTabularInline):
    model = HubMembership
    extra = 0
    autocomplete_fields = ("user",)

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Hub)
class HubAdmin(HubScopedAdmin):
    list_display = ("name", "lead_provider", "contact_email")
    list_select_related = ("lead_provider",)
    search_fields = ("name",)
    inlines = (HubMembershipInline,)
    csv_columns = (
        ("Hub", "name"),
        ("Lead provider", "lead_provider.name"),
        ("Contact", "contact_email"),
    )

    def save_formset(self, request, form, formset, change):
        # Memberships go through the service so that role permissions follow.
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            # Leaving the hub ends its facilitation and returns unmarked scripts to the pool.
            membership_end(membership=membership, by=request.user)
        for membership in instances:
            if membership.pk:  # an edited row: a different person is one leaving, one joining
                membership_change(
                    membership=membership,
                    hub=form.instance,
                    user=membership.user,
                    role=membership.role,
                    by=request.user,
                )
            else:
                hub_membership_add(hub=form.instance, user=membership.user, role=membership.role)


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "delivery_months",
        "assessment_window_months",
        "mentor_checkins",
        "max_response_words",
    )
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Cohort)
class CohortAdmin(HubScopedAdmin):
    list_display = (
        "identifier",
        "hub",
        "start_date",
        "registration_opens_on",
        "registration_closes_on",
        "funding_model",
        "funding_round",
    )
    list_select_related = ("hub", "funding_round")
    list_filter = (("hub", scoped_filter), "funding_model", "funding_round")
    search_fields = ("identifier",)
    csv_columns = (
        ("Cohort", "identifier"),
        ("Hub", "hub.name"),
        ("Start", "start_date"),
        ("Registration opens", "registration_opens_on"),
        ("Registration closes", "registration_closes_on"),
        ("Funding model", "funding_model"),
        ("Funding round", "funding_round.code"),
    )


class GroupInline(LabelledTabularInline):
    model = Group
    extra = 0
    fields = ("name", "mode", "venue", "capacity", "enrolled")
    readonly_fields = ("enrolled",)
    show_change_link = True

    def get_queryset(self, request):
        # Each row is named "Group (course)": no query per group for the course's labels.
        return super().get_queryset(request).select_related("course__programme", "course__cohort")


@admin.register(Course)
class CourseAdmin(HubScopedAdmin):
    list_display = (
        "__str__",
        "programme",
        "cohort",
        "delivery_start",
        "delivery_end",
        "funded_places",
    )
    list_select_related = ("programme", "cohort__hub")
    list_filter = (("cohort", scoped_filter), "programme")
    search_fields = ("programme__code", "programme__name", "cohort__identifier")
    inlines = (GroupInline,)
    csv_columns = (
        ("Programme", "programme.code"),
        ("Cohort", "cohort.identifier"),
        ("Hub", "cohort.hub.name"),
        ("Delivery start", "delivery_start"),
        ("Delivery end", "delivery_end"),
        ("Funded places", "funded_places"),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("delivery_end",)

    def save_model(self, request, obj, form, change):
        from ..services import delivery_end_for

        obj.delivery_end = delivery_end_for(programme=obj.programme, delivery_start=obj.delivery_start)
        super().save_model(request, obj, form, change)


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ("course", "name", "mode", "venue", "capacity", "facilitators")

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk and capacity < self.instance.enrolled:
            raise forms.ValidationError(
                ngettext(
                    "The group has %d participant; capacity cannot be lower.",
                    "The group has %d participants; capacity cannot be lower.",
                    self.instance.enrolled,
                )
                % self.instance.enrolled
            )
        return capacity


@admin.register(Group)
class GroupAdmin(HubScopedAdmin):
    form = GroupForm
    list_display = ("name", "course", "mode", "venue", "capacity", "enrolled")
    list_select_related = ("course__programme", "course__cohort__hub")

    list_filter = (("course__cohort", scoped_filter), ("course__programme", scoped_filter), "mode")
    search_fields = ("name", "venue", "course__programme__code")
    filter_horizontal = ("facilitators",)
    csv_columns = (
        ("Group", "name"),
        ("Programme", "course.programme.code"),
        ("Cohort", "course.cohort.identifier"),
        ("Mode", "get_mode_display"),
        ("Venue", "venue"),
        ("Capacity", "capacity"),
        ("Enrolled", "enrolled"),
    )

    def get_readonly_fields(self, request, obj=None):
        # Moving a group with people in it to another course would strand them.
        return ("course",) if obj is not None else ()

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.facilitators.all()) if change else set()
        super().save_related(request, form, formsets, change)
        for user in before | set(form.instance.facilitators.all()):
            sync_staff_access(user=user)
