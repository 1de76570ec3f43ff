"""Django admin for hub staff. Every list, form, lookup, filter and action is scoped to the user.

Scoping lives in ``programmes.selectors.visible_to``; this module only wires it in and calls
services. Status changes and registers have their own small admin pages (``programmes/admin_views.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from npq_portal.admin_accessibility import LabelledTabularInline
from npq_portal.csv_export import csv_response

from . import admin_views
from .admin_filters import NameSearchFilter, scoped_filter
from .admin_paging import CappedCountPaginator
from .models import (
    Activity,
    Attendance,
    Cohort,
    Course,
    FreedPlace,
    Group,
    Hub,
    HubMembership,
    LeadProvider,
    Participant,
    Programme,
)
from .selectors import HUB_PATHS, administered, may_change
from .services import (
    EnrolmentError,
    activity_save,
    hub_membership_add,
    membership_change,
    membership_end,
    participant_enrol,
    sync_staff_access,
    validate_enrolment,
)
from .staff_scope import visible_in_request


@admin.action(description="Export selected rows as CSV")
def export_as_csv(modeladmin: HubScopedAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
    """CSV of the selected rows (already limited to the user's scope by the changelist)."""
    columns = modeladmin.csv_columns
    rows = queryset.select_related(*modeladmin.list_select_related or ())
    return csv_response(
        f"{modeladmin.model._meta.verbose_name_plural.replace(' ', '-')}.csv",
        [header for header, _ in columns],
        ([_csv_value(modeladmin, row, path) for _, path in columns] for row in rows),
    )


def _csv_value(modeladmin: admin.ModelAdmin, row: object, dotted: str) -> object:
    """A column: a method of the admin taking the row (as in ``list_display``), or a dotted path
    on the row. A name that is neither is an error, not an empty column."""
    display = getattr(modeladmin, dotted, None)
    if callable(display) and not hasattr(admin.ModelAdmin, dotted):
        return display(row)
    value = row
    for part in dotted.split("."):
        try:
            value = getattr(value, part)
        except ObjectDoesNotExist:  # a missing one-to-one row: an empty cell
            return None
        if value is None:
            return None
        if callable(value):
            value = value()
    return value


@admin.display(description="Group", ordering="group__name")
def group_name(obj) -> str:
    return obj.group.name if obj.group_id else "Whole course"


class ReadOnlyMixin:
    """Records kept as they were made (logs, evidence, DfE's answers): seen in admin, never changed there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HubScopedAdmin(admin.ModelAdmin):
    """Rows, choices and lookups limited to what ``request.user`` may see."""

    csv_columns: Sequence[tuple[str, str]] = ()
    actions = (export_as_csv,)

    # Lists stay as fast at 100,000 rows as at 10: the unfiltered total would count every row
    # of the hub again on each page (the filtered count is still shown).
    show_full_result_count = False
    # Fifty rows a page: each row is Python's work to render (a hundred took most of the time
    # of a list page); staff narrow lists with the filters and the search.
    list_per_page = 50

    def action_checkbox(self, obj) -> str:
        """Django's row checkbox, with its label, written directly: rendering a form widget's
        template for every row cost more than the row's query."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html("Select this object for an action - {}", str(obj)),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return visible_in_request(super().get_queryset(request), request)

    # Seeing a row (as a facilitator) is not changing it: writes need the row's hub administered.
    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change(obj, request.user))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change(obj, request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model in HUB_PATHS:
            # Forms write: offer only rows of the hubs the user administers.
            kwargs["queryset"] = administered(db_field.related_model._default_manager.all(), request.user)
        elif db_field.related_model is User and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is User and not request.user.is_superuser:
            # Only staff of the hubs the user administers can be chosen as facilitators.
            kwargs["queryset"] = User.objects.filter(
                hub_memberships__hub__in=administered(Hub.objects.all(), request.user)
            ).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # django-simple-history's pages look rows up by id themselves: keep them in scope, and
    # never revert from them (a revert would bypass the services and their counters).
    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        self._object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context=None):
        self._object_or_404(request, object_id)
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def _object_or_404(self, request: HttpRequest, object_id: str):
        # get_object answers None for an id that is not one ('²', a NUL), not a 500.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        return obj

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not self.csv_columns:
            actions.pop("export_as_csv", None)
        return actions


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
        "engagement_link",
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

    change_form_template = "admin/programmes/course/change_form.html"  # links to its engagement

    @admin.display(description="Engagement")
    def engagement_link(self, obj: Course) -> str:
        return format_html(
            '<a href="{}">Engagement<span class="visually-hidden"> of {}</span></a>',
            reverse("admin:programmes_course_engagement", args=[obj.pk]),
            obj,
        )

    def get_urls(self):
        return [
            path(
                "<int:course_id>/engagement/",
                self.admin_site.admin_view(admin_views.CourseEngagementView.as_view(model_admin=self)),
                name="programmes_course_engagement",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        from .services import delivery_end_for

        obj.delivery_end = delivery_end_for(programme=obj.programme, delivery_start=obj.delivery_start)
        super().save_model(request, obj, form, change)


class ActivityInline(LabelledTabularInline):
    model = Activity
    extra = 0
    fields = (
        "code",
        "kind",
        "title",
        "starts_at",
        "ends_at",
        "due_on",
        "weight",
        "required",
        "counts_towards_engagement",
    )
    show_change_link = True


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
    list_display = ("name", "course", "mode", "venue", "capacity", "enrolled", "grid_link")
    list_select_related = ("course__programme", "course__cohort__hub")

    @admin.display(description="Engagement")
    def grid_link(self, obj: Group) -> str:
        return format_html('<a href="{}">Grid</a>', reverse("admin:programmes_group_grid", args=[obj.pk]))

    def get_urls(self):
        return [
            path(
                "<int:group_id>/grid/",
                self.admin_site.admin_view(admin_views.GroupGridView.as_view(model_admin=self)),
                name="programmes_group_grid",
            ),
            *super().get_urls(),
        ]

    list_filter = (("course__cohort", scoped_filter), ("course__programme", scoped_filter), "mode")
    search_fields = ("name", "venue", "course__programme__code")
    filter_horizontal = ("facilitators",)
    inlines = (ActivityInline,)
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

    def save_formset(self, request, form, formset, change):
        for activity in formset.save(commit=False):
            activity_save(activity=activity)
        for activity in formset.deleted_objects:
            activity.delete()

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.facilitators.all()) if change else set()
        super().save_related(request, form, formsets, change)
        for user in before | set(form.instance.facilitators.all()):
            sync_staff_access(user=user)


@admin.register(Activity)
class ActivityAdmin(HubScopedAdmin):
    change_list_template = "admin/programmes/activity/change_list.html"
    # Newest first by primary key, not through the course's joins (a hub has ~10,000 activities).
    ordering = ("-pk",)
    list_display = (
        "title",
        "kind",
        "course",
        group_name,
        "starts_at",
        "due_on",
        "weight",
        "required",
        "register_link",
    )
    list_select_related = ("course__programme", "course__cohort", "group")
    list_filter = (
        ("course__cohort", scoped_filter),
        ("course__programme", scoped_filter),
        ("group__name", NameSearchFilter),
        "kind",
        "required",
    )
    search_fields = ("title", "code")
    autocomplete_fields = ("course", "group")
    csv_columns = (
        ("Code", "code"),
        ("Title", "title"),
        ("Kind", "get_kind_display"),
        ("Programme", "course.programme.code"),
        ("Cohort", "course.cohort.identifier"),
        ("Group", "group.name"),
        ("Starts", "starts_at"),
        ("Due", "due_on"),
        ("Weight", "weight"),
        ("Required", "required"),
    )

    @admin.display(description="Register")
    def register_link(self, obj: Activity) -> str:
        return format_html(
            '<a href="{}">Take register</a>',
            reverse("admin:programmes_activity_register", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:activity_id>/register/",
                self.admin_site.admin_view(admin_views.RegisterView.as_view(model_admin=self)),
                name="programmes_activity_register",
            ),
            path(
                "import-lms/",
                self.admin_site.admin_view(admin_views.LmsImportView.as_view(model_admin=self)),
                name="programmes_activity_lms_import",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        activity_save(activity=obj)


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


@admin.register(Attendance)
class AttendanceAdmin(HubScopedAdmin, SimpleHistoryAdmin):
    list_display = ("participant_email", "activity", "status", "recorded_by", "recorded_at")
    # Newest first, in primary-key order: the model's order goes through joins and sorted
    # every row of the hub for each page.
    ordering = ("-pk",)
    paginator = CappedCountPaginator  # a hub's marks: hundreds of thousands
    list_select_related = ("participant__user", "activity", "recorded_by")

    @admin.display(description="Participant", ordering="participant__user__email")
    def participant_email(self, obj: Attendance) -> str:
        return obj.participant.user.email

    list_filter = (
        ("activity__course__cohort", scoped_filter),
        ("participant__group__name", NameSearchFilter),
        "status",
    )
    search_fields = (
        "participant__user__email",
        "participant__trn",
        "activity__title",
        "activity__code",
    )
    readonly_fields = ("participant", "activity", "recorded_by", "recorded_at")
    csv_columns = (
        ("Email", "participant.user.email"),
        ("TRN", "participant.trn"),
        ("Activity", "activity.code"),
        ("Title", "activity.title"),
        ("Status", "status"),
        ("Recorded at", "recorded_at"),
    )

    def has_add_permission(self, request):
        return False  # marks are taken on an activity's register


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
