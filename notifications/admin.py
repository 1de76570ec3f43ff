"""Admin: the scheduled jobs page (last run, duration, sent, errors) and the notifications sent."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import ngettext

from .models import JobRun, Notification
from .services import notifications_send_again


class SuperuserOnly(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(SuperuserOnly):
    list_display = (
        "reference",
        "kind",
        "recipient",
        "occurrence",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("recipient", "title")
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["send_again"]

    @admin.display(description="Reference", ordering="pk")
    def reference(self, obj: Notification) -> str:
        return obj.reference

    @admin.action(description="Send again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        again = notifications_send_again(notifications=queryset)
        left = queryset.count() - again
        if again:
            messages.success(
                request,
                ngettext(
                    "%(count)d notification will be sent again.",
                    "%(count)d notifications will be sent again.",
                    again,
                )
                % {"count": again},
            )
        if left:
            messages.warning(
                request,
                ngettext(
                    "%(count)d notification was not sent again: it is sent, being sent or "
                    "waiting to be sent.",
                    "%(count)d notifications were not sent again: they are sent, being sent or "
                    "waiting to be sent.",
                    left,
                )
                % {"count": left},
            )


@admin.register(JobRun)
class JobRunAdmin(SuperuserOnly):
    list_display = ("job", "started_at", "duration", "sent", "skipped_overlap", "error_short")
    list_filter = ("job", "skipped_overlap")
    change_list_template = "admin/notifications/jobrun/change_list.html"

    @admin.display(description="Duration")
    def duration(self, obj: JobRun) -> str:
        seconds = obj.duration_seconds
        if seconds is None:
            return "did not finish" if obj.error else "running"
        return f"{seconds:.1f}s"

    @admin.display(description="Error")
    def error_short(self, obj: JobRun) -> str:
        return obj.error[:120]

    def get_urls(self):
        return [
            path("jobs/", self.admin_site.admin_view(self.jobs_view), name="notifications_jobrun_jobs"),
            *super().get_urls(),
        ]

    def jobs_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_superuser:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        rows = []
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            job = (entry.get("args") or [None])[0] or entry["task"]
            runs = JobRun.objects.filter(job=job)
            last = runs.first()
            rows.append(
                {
                    "name": name,
                    "job": job,
                    "schedule": entry["schedule"],
                    "last": last,
                    "errors": runs.exclude(error="").count(),
                    "last_error": runs.exclude(error="").first(),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Scheduled jobs",
            "rows": rows,
        }
        return TemplateResponse(request, "admin/notifications/jobrun/jobs.html", context)
