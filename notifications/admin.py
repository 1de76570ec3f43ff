"""Admin: the scheduled jobs page (last run, duration, sent, errors) and the notifications sent."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from .models import JobRun, Notification


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
    )
    list_filter = ("kind", "status")
    search_fields = ("recipient", "title")
    readonly_fields = [f.name for f in Notification._meta.fields]

    @admin.display(description="Reference", ordering="pk")
    def reference(self, obj: Notification) -> str:
        return obj.reference


@admin.register(JobRun)
class JobRunAdmin(SuperuserOnly):
    list_display = ("job", "started_at", "duration", "sent", "skipped_overlap", "error_short")
    list_filter = ("job", "skipped_overlap")
    change_list_template = "admin/notifications/jobrun/change_list.html"

    @admin.display(description="Duration")
    def duration(self, obj: JobRun) -> str:
        seconds = obj.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f}s"

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
