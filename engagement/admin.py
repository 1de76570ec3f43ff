"""Engagement in Django admin: activities and their registers, attendance marks, the LMS import,
and the engagement pages of a course and of a group.

Courses and groups are programmes' models; their engagement pages (and a group's activities inline)
are added here by registering a subclass of programmes' admin in its place, so that programmes
never imports engagement (docs/architecture.md).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from common.admin_accessibility import LabelledTabularInline
from programmes import admin as programmes_admin
from programmes.admin import HubScopedAdmin, group_name
from programmes.admin_filters import NameSearchFilter, scoped_filter
from programmes.admin_paging import CappedCountPaginator
from programmes.models import Course, Group

from . import admin_views
from .models import Activity, Attendance
from .services import activity_save


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


admin.site.unregister(Course)


@admin.register(Course)
class CourseAdmin(programmes_admin.delivery.CourseAdmin):
    list_display = (*programmes_admin.delivery.CourseAdmin.list_display, "engagement_link")
    change_form_template = "admin/engagement/course/change_form.html"  # links to its engagement

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


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(programmes_admin.delivery.GroupAdmin):
    list_display = (*programmes_admin.delivery.GroupAdmin.list_display, "grid_link")
    inlines = (ActivityInline,)

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

    def save_formset(self, request, form, formset, change):
        for activity in formset.save(commit=False):
            activity_save(activity=activity)
        for activity in formset.deleted_objects:
            activity.delete()


@admin.register(Activity)
class ActivityAdmin(HubScopedAdmin):
    change_list_template = "admin/engagement/activity/change_list.html"
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
            reverse("admin:engagement_activity_register", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:activity_id>/register/",
                self.admin_site.admin_view(admin_views.RegisterView.as_view(model_admin=self)),
                name="engagement_activity_register",
            ),
            path(
                "import-lms/",
                self.admin_site.admin_view(admin_views.LmsImportView.as_view(model_admin=self)),
                name="engagement_activity_lms_import",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        activity_save(activity=obj)


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
