"""Admin of import runs: uploading a GIAS or eligibility list file, its progress, running it
again, and confirming a list replacement that would remove more than half of the list."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from common.csv_files import MalformedFile, refuse_if_not_text

from ..dfe_lists import FORMATS, ListFormatError, header_of, resolve_kind
from ..imports import (
    RUN_AGAIN_STATUSES,
    identifier_names,
    import_run_again,
    import_run_cancel,
    import_run_confirm,
)
from ..models import ImportRun
from ..tasks import run_import
from .common import SuperuserOnlyAdmin


class ImportRunForm(forms.ModelForm):
    class Meta:
        model = ImportRun
        fields = ("kind", "file", "funding_round", "list_kind")
        help_texts = {
            "file": (
                "A CSV file: GIAS 'edubasealldata', or one of DfE's eligibility list files as published "
                "(UTF-8 or ISO-8859-1). The list replaces the round's list of that kind in one step."
            ),
            "list_kind": (
                "Read from the header of DfE's files ("
                + "; ".join(f"{f.name}: \u201c{f.columns[0]}\u201d" for f in FORMATS)
                + "). Choose it only for a file with a plain URN, UKPRN or Ofsted URN column."
            ),
        }

    def clean_file(self):
        """A workbook, PDF or empty file is refused here; the worker checks the rest."""
        upload = self.cleaned_data.get("file")
        if upload:
            head = upload.read(64 * 1024)
            upload.seek(0)
            try:
                refuse_if_not_text(head)
            except MalformedFile as exc:
                raise forms.ValidationError(str(exc).removesuffix(" Nothing was loaded.")) from None
        return upload

    def clean(self):
        """Which list a file is comes from its header: a DfE file for another list than the one
        chosen is refused here, next to the list's field, before anything is queued."""
        data = super().clean()
        if data.get("kind") == ImportRun.Kind.ELIGIBILITY_LIST:
            if not data.get("funding_round"):
                self.add_error("funding_round", "Choose the funding round this list is for.")
            upload = data.get("file")
            if upload:
                header = header_of(upload.read(64 * 1024))
                upload.seek(0)
                try:
                    data["list_kind"], _ = resolve_kind(header, data.get("list_kind") or "")
                except ListFormatError as exc:
                    self.add_error("list_kind", str(exc))
            elif not data.get("list_kind"):
                self.add_error("list_kind", "Choose which list this is.")
        return data


@admin.register(ImportRun)
class ImportRunAdmin(SuperuserOnlyAdmin):
    form = ImportRunForm
    list_display = ("__str__", "kind", "status", "progress", "message", "created_at", "finished_at")
    list_filter = ("kind", "status")
    list_select_related = ("funding_round",)
    actions = ("run_again",)
    readonly_fields = (
        "status",
        "progress",
        "created",
        "updated",
        "unchanged",
        "removed",
        "message",
        "list_changes",
        "list_history",
        "problem_lines",
        "started_by",
        "rerun_of",
        "confirmed_by",
        "confirmed_at",
        "attempts",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("kind", "file", "funding_round", "list_kind")
        return ("kind", "file", "funding_round", "list_kind", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("kind", "file", "funding_round", "list_kind", *self.readonly_fields)

    @admin.display(description="Progress")
    def progress(self, obj: ImportRun) -> str:
        if obj.status == ImportRun.Status.RUNNING and not obj.rows_total:
            return f"Checking the file: {obj.rows_done:,} row{'s' if obj.rows_done != 1 else ''} read"
        if not obj.rows_total:
            return "–"
        return f"{obj.rows_done} of {obj.rows_total} rows ({100 * obj.rows_done // obj.rows_total}%)"

    @admin.display(description="Rows skipped")
    def problem_lines(self, obj: ImportRun) -> str:
        if not obj.problems:
            return "None"
        items = format_html_join("", "<li>Line {}: {}</li>", obj.problems[:500])
        more = f" and {len(obj.problems) - 500} more" if len(obj.problems) > 500 else ""
        return format_html("<ul>{}</ul>{}", items, more)

    @admin.display(description="Changes to the list")
    def list_changes(self, obj: ImportRun) -> str:
        changes = obj.changes or {}
        if "current" not in changes:
            return "–"
        text = format_html(
            "{} on the list before, {} in the file: {} added, {} removed, {} unchanged.",
            changes["current"],
            changes["incoming"],
            changes["added"],
            changes["removed"],
            changes["unchanged"],
        )
        if obj.status == ImportRun.Status.NEEDS_CONFIRMATION:
            url = reverse("admin:funding_importrun_confirm", args=[obj.pk])
            return format_html('{} <a href="{}">Check the changes and confirm</a>', text, url)
        return text

    @admin.display(description="Recorded in the list's history")
    def list_history(self, obj: ImportRun) -> str:
        change = obj.list_changes.first()
        if change is None:
            return "–"
        url = reverse("admin:funding_eligibilitylistchange_change", args=[change.pk])
        return format_html(
            '<a href="{}">{} added, {} removed</a>', url, f"{len(change.added):,}", f"{len(change.removed):,}"
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.started_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            # Queued once the row (and the file) are committed; the worker reports progress here.
            transaction.on_commit(lambda: run_import.delay(obj.pk))
            messages.info(request, "The import has been queued. Reload this page to see its progress.")

    @admin.action(
        description="Run the selected failed, cancelled or queued imports again", permissions=["change"]
    )
    def run_again(self, request: HttpRequest, queryset) -> None:
        again = [
            new
            for run in queryset.filter(status__in=RUN_AGAIN_STATUSES)
            if (new := import_run_again(run=run, by=request.user))
        ]
        others = queryset.count() - len(again)
        if again:
            messages.success(
                request,
                ngettext("Import queued again as %s.", "Imports queued again as %s.", len(again))
                % ", ".join(f"#{run.pk}" for run in again),
            )
        if others:
            messages.warning(
                request,
                ngettext(
                    "%d import was left as it is: only failed, cancelled or queued imports run again.",
                    "%d imports were left as they are: only failed, cancelled or queued imports run again.",
                    others,
                )
                % others,
            )

    def get_urls(self):
        return [
            path(
                "<int:run_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="funding_importrun_confirm",
            ),
            *super().get_urls(),
        ]

    def confirm_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """Replacing a list with a file that keeps fewer than half of it: a superuser sees the
        counts and a sample of the settings removed and added, then replaces it or keeps it."""
        if not request.user.is_superuser:
            raise PermissionDenied
        run = get_object_or_404(ImportRun.objects.select_related("funding_round"), pk=run_id)
        change_url = reverse("admin:funding_importrun_change", args=[run.pk])
        waiting = run.status == ImportRun.Status.NEEDS_CONFIRMATION
        if request.method == "POST":
            decision = request.POST.get("decision")
            if decision == "replace" and import_run_confirm(run=run, by=request.user):
                messages.success(
                    request, "Confirmed: the list will be replaced. Reload this page to see the result."
                )
            elif decision == "keep" and import_run_cancel(run=run, by=request.user):
                messages.success(request, "The current list was kept. Nothing was changed.")
            elif decision in ("replace", "keep"):
                messages.warning(
                    request, "This import was no longer waiting for confirmation. Nothing was changed."
                )
            else:
                messages.error(request, "Choose whether to replace the list or keep it.")
                return redirect(request.path)
            return redirect(change_url)
        if not waiting:
            messages.info(request, "This import is not waiting for confirmation.")
            return redirect(change_url)
        changes = run.changes
        names = identifier_names([*changes["removed_sample"], *changes["added_sample"]])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Replace the list?",
            "run": run,
            "changes": changes,
            "figures": {
                key: f"{changes[key]:,}" for key in ("current", "incoming", "added", "removed", "unchanged")
            },
            "share": 100 * changes["incoming"] // max(changes["current"], 1),
            "removed": [(i, names.get(i, "")) for i in changes["removed_sample"]],
            "added": [(i, names.get(i, "")) for i in changes["added_sample"]],
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/funding/importrun/confirm.html", context)
