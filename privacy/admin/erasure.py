"""Erasure (superusers only): find the person, see what goes and what is kept, then confirm."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.models import User

from ..models import AccessLogEntry, ErasureRecord
from ..services import access_record, erase_person, erasure_plan
from .scope import PersonForm

TALLY_WORDS = {
    "anonymised": "anonymised",
    "deleted": "deleted",
    "kept": "kept",
    "naming_them": "of other people's naming them, their details removed",
}


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
