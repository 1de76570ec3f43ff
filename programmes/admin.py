"""Django admin for hub staff. Every list, form, lookup and action is scoped to the user's hubs."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import Cohort, Course, Group, Hub, HubMembership, LeadProvider, Participant, Programme
from .selectors import hubs_for_staff


class HubScopedAdminMixin:
    """Limit a ModelAdmin to the rows of the hubs the user belongs to (superusers see all).

    ``hub_path`` is the ORM path from the model to its Hub.
    """

    hub_path: str = "hub"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.hub_path}__in": hubs_for_staff(user=request.user)})


@admin.register(LeadProvider)
class LeadProviderAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class HubMembershipInline(admin.TabularInline):
    model = HubMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Hub)
class HubAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_path = "pk"
    list_display = ("name", "lead_provider", "contact_email")
    list_select_related = ("lead_provider",)
    search_fields = ("name",)
    inlines = (HubMembershipInline,)


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
class CohortAdmin(HubScopedAdminMixin, admin.ModelAdmin):
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
    list_filter = ("funding_model", "funding_round")
    search_fields = ("identifier",)


class GroupInline(admin.TabularInline):
    model = Group
    extra = 0
    fields = ("name", "mode", "venue", "capacity")


@admin.register(Course)
class CourseAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_path = "cohort__hub"
    list_display = (
        "__str__",
        "programme",
        "cohort",
        "delivery_start",
        "delivery_end",
        "funded_places",
    )
    list_select_related = ("programme", "cohort__hub")
    list_filter = ("cohort", "programme")
    search_fields = ("programme__code", "programme__name", "cohort__identifier")
    inlines = (GroupInline,)


@admin.register(Group)
class GroupAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_path = "course__cohort__hub"
    list_display = ("name", "course", "mode", "venue", "capacity")
    list_select_related = ("course__programme", "course__cohort__hub")
    list_filter = ("mode", "course__cohort", "course__programme")
    search_fields = ("name", "venue")


@admin.register(Participant)
class ParticipantAdmin(HubScopedAdminMixin, SimpleHistoryAdmin):
    hub_path = "course__cohort__hub"
    list_display = ("user", "trn", "course", "group", "status", "status_changed_on")
    list_select_related = ("user", "course__programme", "course__cohort__hub", "group")
    list_filter = ("status", "course__cohort", "course__programme", "group")
    search_fields = ("user__email", "user__full_name", "trn")
    raw_id_fields = ("user",)
