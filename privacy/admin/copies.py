"""Copies of a person's data (subject access): hub administrators for their hub's people,
superusers for anyone."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import User

from ..models import SubjectAccessExport
from ..services import export_request, people_of_hubs, person_hub_ids
from .scope import PersonForm, hub_ids, is_hub_admin


@admin.register(SubjectAccessExport)
class SubjectAccessExportAdmin(admin.ModelAdmin):
    list_display = ("reference", "person", "status_words", "created_at", "expires_at", "download")
    list_select_related = ("person",)
    readonly_fields = (
        "person",
        "requested_by",
        "hub",
        "status_words",
        "records",
        "files",
        "created_at",
        "finished_at",
        "expires_at",
        "download",
    )
    fields = readonly_fields
    search_fields = ("person__email",)

    @admin.display(description="Reference", ordering="pk")
    def reference(self, obj: SubjectAccessExport) -> str:
        return f"SAR-{obj.pk:06d}"

    @admin.display(description="Status")
    def status_words(self, obj: SubjectAccessExport) -> str:
        if obj.status == obj.Status.RUNNING:
            return f"Being prepared: {obj.parts_done} of {obj.parts_total} parts ({obj.percent_done}%)"
        if obj.status == obj.Status.FAILED:
            return f"Failed. {obj.failure}"
        return obj.get_status_display()

    @admin.display(description="Download")
    def download(self, obj: SubjectAccessExport) -> str:
        # The list shows the link for every copy ready (the rows are the viewer's hub's already);
        # the download itself checks who may have it.
        if obj.status == obj.Status.DONE and obj.file and obj.expires_at and obj.expires_at > timezone.now():
            return format_html(
                '<a href="{}">Download the copy of {}’s data</a>',
                reverse("privacy_export_download", args=[obj.pk]),
                obj.person.email,
            )
        return "Not available"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(hub__in=hub_ids(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or is_hub_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """Ask for a copy of one person's data: someone who applied to or is enrolled with a hub
        the staff member administers (anyone, for a superuser)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        hubs = hub_ids(request)
        people = User.objects.all() if request.user.is_superuser else people_of_hubs(hubs)
        form = PersonForm(request.POST or None, people=people)
        if request.method == "POST" and form.is_valid():
            person = form.cleaned_data["email"]
            shared = sorted(hubs & person_hub_ids(person))
            export = export_request(
                person=person, requested_by=request.user, hub_id=shared[0] if shared else None
            )
            messages.success(request, "The copy is being prepared. This page shows how far it has got.")
            return HttpResponseRedirect(reverse("admin:privacy_subjectaccessexport_change", args=[export.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Ask for a copy of a person’s data",
            "form": form,
            "action_label": "Prepare the copy",
            "intro": "The copy holds everything the portal has about the person: a ZIP of records "
            "and the files they uploaded. It is prepared in the background and can be downloaded "
            "here for a week.",
        }
        return TemplateResponse(request, "admin/privacy/form.html", context)
