"""Admin for personal data: copies for subject access (hub administrators for their hub's
people, superusers for anyone), erasure (superusers only), the retention schedule and its
report, and the access log (a hub's administrators see their hub's entries)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import User
from programmes.models import Hub

from .kinds import KINDS
from .models import AccessLogEntry, ErasureRecord, RetentionRule, RetentionRun, SubjectAccessExport
from .retention import SCHEDULES, retention_report
from .services import (
    access_record,
    administered_hub_ids,
    erase_person,
    erasure_plan,
    export_request,
    people_of_hubs,
    person_hub_ids,
)

TALLY_WORDS = {
    "anonymised": "anonymised",
    "deleted": "deleted",
    "kept": "kept",
    "naming_them": "of other people's naming them, their details removed",
}


def hub_ids(request: HttpRequest) -> set[int]:
    """The hubs the viewer administers, read once per request (the admin's sidebar asks every
    model's permissions on every page)."""
    if not hasattr(request, "_privacy_hub_ids"):
        user = request.user
        active = user.is_active and user.is_staff
        request._privacy_hub_ids = administered_hub_ids(user) if active else set()
    return request._privacy_hub_ids


def is_hub_admin(request: HttpRequest) -> bool:
    return bool(hub_ids(request))


class PersonForm(forms.Form):
    email = forms.EmailField(
        label="Email address of the person",
        help_text="The address they sign in with.",
        max_length=254,
    )

    def __init__(self, *args, people: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.people = people

    def clean_email(self) -> User:
        email = self.cleaned_data["email"]
        person = self.people.filter(email__iexact=email).first()
        if person is None:
            raise forms.ValidationError(
                "No one with this email address has applied to or is enrolled with your hub."
            )
        return person


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


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    list_display = ("account_id", "cause", "erased_at", "erased_by", "files_deleted")
    readonly_fields = ("account_id", "cause", "erased_at", "erased_by", "counts_in_words", "files_deleted")
    fields = readonly_fields
    change_list_template = "admin/privacy/erasurerecord/change_list.html"

    @admin.display(description="What was done")
    def counts_in_words(self, obj: ErasureRecord) -> str:
        parts = []
        for kind, tally in obj.counts.items():
            done = ", ".join(f"{n} {TALLY_WORDS.get(what, what)}" for what, n in tally.items() if n)
            parts.append(f"{kind}: {done}")
        return "; ".join(parts)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path("erase/", self.admin_site.admin_view(self.erase_view), name="privacy_erasurerecord_erase"),
            *super().get_urls(),
        ]

    def erase_view(self, request: HttpRequest) -> HttpResponse:
        """Erase a person: find them, see what goes and what is kept, then confirm."""
        if not request.user.is_superuser:
            raise PermissionDenied
        form = PersonForm(request.POST or None, people=User.objects.filter(is_superuser=False))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        if request.method == "POST" and form.is_valid():
            person = form.cleaned_data["email"]
            if ErasureRecord.objects.filter(account_id=person.pk).exists():
                form.add_error("email", "This person has already been erased.")
            elif request.POST.get("confirm") == "yes":
                record = erase_person(person=person, by=request.user)
                access_record(
                    by=request.user,
                    action=AccessLogEntry.Action.ERASED,
                    what=f"Erasure (account {record.account_id})",
                    person=person,
                )
                messages.success(request, f"The person was erased (account number {record.account_id}).")
                return HttpResponseRedirect(reverse("admin:privacy_erasurerecord_change", args=[record.pk]))
            else:
                context |= {
                    "title": "Erase this person?",
                    "person": person,
                    "plan": erasure_plan(person),
                    "form": form,
                }
                return TemplateResponse(request, "admin/privacy/erase_confirm.html", context)
        context |= {
            "title": "Erase a person",
            "form": form,
            "action_label": "Show what would be erased",
            "intro": "Erasure removes the person's name, addresses, dates of birth, teacher "
            "reference number, answers, notes and files, and deletes what DfE does not require. "
            "You will see what goes and what is kept before anything happens.",
        }
        return TemplateResponse(request, "admin/privacy/form.html", context)


# Kinds whose rules only superusers set, even for one hub: the access log records what hub staff
# viewed and exported (the audited do not set how long it is kept), and a participant's time
# being up erases the whole account, at every hub (erasure is for superusers).
SUPERUSER_ONLY_KINDS = {
    "access_log": "Only the portal's administrators set how long the access log is kept.",
    "participants": "Only the portal's administrators set when people are erased: it erases the "
    "whole account, with its records at every hub.",
}


class RetentionRuleForm(forms.ModelForm):
    superuser = False  # set by RetentionRuleAdmin.get_form

    class Meta:
        model = RetentionRule
        fields = ("kind", "hub", "period", "unit", "enabled")

    def clean(self):
        data = super().clean()
        kind, hub = data.get("kind"), data.get("hub")
        if hub is not None and kind and (kind not in SCHEDULES or SCHEDULES[kind].hub_path is None):
            self.add_error("hub", "This kind of record is not a hub's: only the portal's rule applies.")
        elif kind in SUPERUSER_ONLY_KINDS and not self.superuser:
            self.add_error("kind", SUPERUSER_ONLY_KINDS[kind])
        return data


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    form = RetentionRuleForm
    list_display = ("kind_words", "hub", "kept_for", "event", "enabled")
    list_filter = ("kind",)
    change_list_template = "admin/privacy/retentionrule/change_list.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.superuser = request.user.is_superuser
        return form

    @admin.display(description="Kind of record", ordering="kind")
    def kind_words(self, obj: RetentionRule) -> str:
        return obj.get_kind_display()

    @admin.display(description="Kept for")
    def kept_for(self, obj: RetentionRule) -> str:
        return f"{obj.period} {obj.get_unit_display()}"

    @admin.display(description="After")
    def event(self, obj: RetentionRule) -> str:
        return KINDS[obj.kind].event if obj.kind in KINDS else ""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request).select_related("hub")
        if request.user.is_superuser:
            return rows
        return rows.filter(hub__in=hub_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "hub" and not request.user.is_superuser:
            kwargs["queryset"] = Hub.objects.filter(pk__in=hub_ids(request))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Superusers set the portal's rules; a hub's administrators their own hub's.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or is_hub_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        return is_hub_admin(request) and (
            obj is None
            or (
                obj.hub_id is not None
                and obj.hub_id in hub_ids(request)
                and obj.kind not in SUPERUSER_ONLY_KINDS
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_change_permission(request, obj) and (obj is None or obj.hub_id is not None)

    def get_urls(self):
        return [
            path(
                "next-month/",
                self.admin_site.admin_view(self.report_view),
                name="privacy_retentionrule_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """What the nightly job will remove within the next month (superusers: it counts every
        hub's records)."""
        if not request.user.is_superuser:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "What the retention schedule removes in the next month",
            "rows": retention_report(now=timezone.now()),
            "runs": RetentionRun.objects.all()[:20],
        }
        return TemplateResponse(request, "admin/privacy/retention_report.html", context)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "by", "action", "what", "person", "hub", "rows")
    list_filter = ("action",)
    list_select_related = ("by", "person", "hub")
    search_fields = ("by__email", "person__email", "what")
    date_hierarchy = "at"

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
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
