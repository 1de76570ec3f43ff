"""Admin for funding: rounds, GIAS data, eligibility lists, imports, decisions and reviews."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from common.csv_files import MalformedFile, refuse_if_not_text
from programmes.admin import HubScopedAdmin, export_as_csv, scoped_filter

from .dfe_lists import FORMATS, ListFormatError, header_of, list_name, resolve_kind
from .eligibility import ALL_REASONS
from .imports import (
    RUN_AGAIN_STATUSES,
    identifier_names,
    import_run_again,
    import_run_cancel,
    import_run_confirm,
)
from .models import (
    EarlyYearsProvider,
    EligibilityListChange,
    EligibilityListEntry,
    FundingDecision,
    FundingReview,
    FundingReviewUpdate,
    FundingRound,
    ImportRun,
    Institution,
    IttProvider,
    rules_from_data,
)
from .reviews import (
    AGE_BANDS,
    ReviewError,
    age_in_words,
    funding_review_update,
    reviews_in_queue_for,
)
from .selectors import funding_report
from .services import OverrideError, funding_decision_override, funding_decision_reassess
from .tasks import run_import
from .wording import (
    EMPLOYMENT_TYPES,
    REASON_LABELS,
    facts_in_words,
    reason_label,
    round_settings_in_words,
    rules_in_words,
)


def summary_list(rows: list[tuple[str, str]], *, html_id: str = "") -> SafeString:
    """Rows of (label, value) as an admin-styled summary list (static/admin-portal/staff-pages.css)."""
    if not rows:
        return format_html('<p class="npq-summary-empty">{}</p>', "None recorded.")
    items = format_html_join(
        "",
        '<div class="npq-summary-list__row"><dt class="npq-summary-list__key">{}</dt>'
        '<dd class="npq-summary-list__value">{}</dd></div>',
        rows,
    )
    id_attr = format_html(' id="{}"', html_id) if html_id else ""
    return format_html('<dl class="npq-summary-list"{}>{}</dl>', id_attr, items)


def facts_summary(facts, *, html_id: str = "") -> SafeString:
    """A decision's facts in words, as a summary list."""
    return summary_list(facts_in_words(facts), html_id=html_id)


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """National reference data: hub staff may look, only superusers change it."""

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class FundingRoundForm(forms.ModelForm):
    class Meta:
        model = FundingRound
        fields = ("code", "name", "in_force_from", "rules_data")

    def clean(self):
        data = super().clean()
        rules = data.get("rules_data") or {}
        if not isinstance(rules, dict):
            self.add_error("rules_data", "The rules must be a JSON object.")
        else:
            try:
                rules_from_data(data.get("code", ""), rules)
            except (TypeError, ValueError) as exc:
                self.add_error("rules_data", f"These rules cannot be used: {exc}.")
        return data


@admin.register(FundingRound)
class FundingRoundAdmin(SuperuserOnlyAdmin, SimpleHistoryAdmin):
    form = FundingRoundForm
    list_display = ("code", "name", "in_force_from")
    search_fields = ("code", "name")
    readonly_fields = ("rules_in_force", "eligibility_lists")

    def get_readonly_fields(self, request, obj=None):
        # Only superusers replace lists: others read the lists without the links.
        lists = "eligibility_lists" if request.user.is_superuser else "eligibility_list_sizes"
        return tuple(
            lists if name == "eligibility_lists" else name
            for name in super().get_readonly_fields(request, obj)
        )

    @admin.display(description="DfE's eligibility lists")
    def eligibility_list_sizes(self, obj: FundingRound) -> str:
        return self.eligibility_lists(obj, links=False)

    @admin.display(description="DfE's eligibility lists")
    def eligibility_lists(self, obj: FundingRound, *, links: bool = True) -> str:
        """Each of DfE's lists for the round: its size, when it was last replaced and by whom,
        with links to replace it (one step) and to its history."""
        if obj.pk is None:
            return "Shown once the round is saved."
        sizes = dict(
            EligibilityListEntry.objects.filter(funding_round=obj)
            .values_list("kind")
            .annotate(n=Count("pk"))
            .values_list("kind", "n")
        )
        last: dict[str, EligibilityListChange] = {}
        for change in EligibilityListChange.objects.filter(funding_round=obj).select_related("replaced_by"):
            last.setdefault(change.kind, change)
        replace = reverse("admin:funding_importrun_add")
        history = reverse("admin:funding_eligibilitylistchange_changelist")
        rows = []
        for f in FORMATS:
            change = last.get(f.kind)
            when = (
                format_html(
                    "last replaced {} by {}",
                    date_format(timezone.localtime(change.replaced_at), "j M Y, H:i"),
                    change.replaced_by or "a command",
                )
                if change
                else "not replaced in the portal"
            )
            if not links:
                rows.append((f.name, format_html("{} settings; {}.", f"{sizes.get(f.kind, 0):,}", when)))
                continue
            rows.append(
                (
                    f.name,
                    format_html(
                        '{} settings; {}.<ul class="npq-links"><li><a href="{}?kind=eligibility_list&amp;funding_round={}&amp;list_kind={}">'
                        'Replace the list \u201c{}\u201d</a></li><li><a href="{}?funding_round__id__exact={}&amp;kind={}">'
                        "History of the list \u201c{}\u201d</a></li></ul>",
                        f"{sizes.get(f.kind, 0):,}",
                        when,
                        replace,
                        obj.pk,
                        f.kind,
                        f.name,
                        history,
                        obj.pk,
                        f.kind,
                        f.name,
                    ),
                )
            )
        return summary_list(rows)

    @admin.display(description="Rules in force")
    def rules_in_force(self, obj: FundingRound) -> str:
        """The round's table in words, in the order it is read, and its other settings."""
        if obj.pk is None:
            return "Shown once the round is saved."
        try:
            rules = obj.rules()
        except (TypeError, ValueError) as exc:  # a new round whose rules data is incomplete
            return f"These rules are incomplete: {exc}"
        rows = format_html_join(
            "",
            '<tr><td class="npq-rule__number">{}</td><td>{}</td><td>{}</td></tr>',
            ((number, when, then) for number, (when, then) in enumerate(rules_in_words(rules), start=1)),
        )
        table = format_html(
            '<table class="npq-rules"><caption>After the checks made first, the first rule that applies '
            'decides</caption><thead><tr><th scope="col">Rule</th><th scope="col">When</th>'
            '<th scope="col">Decision</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )
        return format_html("{}{}", summary_list(round_settings_in_words(rules)), table)


@admin.register(Institution)
class InstitutionAdmin(SuperuserOnlyAdmin):
    list_display = (
        "urn",
        "name",
        "establishment_type_name",
        "status",
        "la_name",
        "postcode",
        "number_of_pupils",
    )
    list_filter = ("status", "establishment_type_name", "phase")
    search_fields = ("=urn", "=ukprn", "name", "postcode")


@admin.register(EarlyYearsProvider)
class EarlyYearsProviderAdmin(SuperuserOnlyAdmin):
    list_display = ("ofsted_urn", "name", "postcode")
    search_fields = ("ofsted_urn", "name", "postcode")


@admin.register(IttProvider)
class IttProviderAdmin(SuperuserOnlyAdmin):
    list_display = ("name", "approved")
    list_filter = ("approved",)
    search_fields = ("name",)


@admin.register(EligibilityListEntry)
class EligibilityListEntryAdmin(SuperuserOnlyAdmin):
    list_display = ("identifier", "kind", "funding_round")
    list_select_related = ("funding_round",)
    list_filter = ("funding_round", "kind")
    search_fields = ("=identifier",)


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


@admin.register(EligibilityListChange)
class EligibilityListChangeAdmin(SuperuserOnlyAdmin):
    """The history of each list: every replacement with the settings it added and removed."""

    list_display = (
        "replaced_at",
        "list_name",
        "funding_round",
        "replaced_by",
        "added_count",
        "removed_count",
    )
    list_select_related = ("funding_round", "replaced_by")
    list_filter = ("funding_round", "kind")
    search_fields = ("=added", "=removed")
    fields = (
        "funding_round",
        "list_name",
        "replaced_at",
        "replaced_by",
        "import_run",
        "entries",
        "added_settings",
        "removed_settings",
    )
    readonly_fields = fields
    SHOWN = 500

    def get_search_results(self, request, queryset, search_term):
        """A URN, UKPRN or Ofsted URN: the replacements that added or removed it."""
        if not search_term.strip():
            return queryset, False
        # Identifiers are letters and digits: anything else (a NUL byte, say) finds nothing.
        term = search_term.strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{1,12}", term):
            return queryset.none(), False
        if connection.vendor == "postgresql":
            return queryset.filter(Q(added__contains=[term]) | Q(removed__contains=[term])), False
        pks = [c.pk for c in queryset.only("added", "removed") if term in c.added or term in c.removed]
        return queryset.filter(pk__in=pks), False

    def has_add_permission(self, request):
        return False  # made by imports only

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="List", ordering="kind")
    def list_name(self, obj: EligibilityListChange) -> str:
        return list_name(obj.kind)

    @admin.display(description="Added")
    def added_count(self, obj: EligibilityListChange) -> int:
        return len(obj.added)

    @admin.display(description="Removed")
    def removed_count(self, obj: EligibilityListChange) -> int:
        return len(obj.removed)

    @admin.display(description="Settings on the list")
    def entries(self, obj: EligibilityListChange) -> str:
        return f"{obj.entries_before:,} before, {obj.entries_after:,} after"

    def _settings(self, identifiers: list[str]) -> str:
        if not identifiers:
            return "None"
        shown = identifiers[: self.SHOWN]
        names = identifier_names(shown)
        items = format_html_join(
            "", "<li>{}{}</li>", ((i, f" – {names[i]}" if i in names else "") for i in shown)
        )
        more = len(identifiers) - len(shown)
        tail = format_html("<p>and {} more.</p>", f"{more:,}") if more > 0 else ""
        return format_html('<ul class="npq-list-changes">{}</ul>{}', items, tail)

    @admin.display(description="Added to the list")
    def added_settings(self, obj: EligibilityListChange) -> str:
        return self._settings(obj.added)

    @admin.display(description="Removed from the list")
    def removed_settings(self, obj: EligibilityListChange) -> str:
        return self._settings(obj.removed)


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


class OverrideForm(forms.ModelForm):
    class Meta:
        model = FundingDecision
        fields = ("override_funded", "override_reason")
        labels = {"override_funded": "Decide by policy", "override_reason": "Reason for deciding by policy"}
        help_texts = {
            "override_reason": "Needed when you decide by policy. The applicant's record keeps it.",
        }
        widgets = {
            "override_funded": forms.Select(
                choices=[
                    (None, "No: use the automatic decision"),
                    (True, "Funded by policy"),
                    (False, "Ineligible by policy"),
                ]
            )
        }

    def clean(self):
        """The reason is checked here, next to its field, before the database's own check
        (``funding_override_has_reason``) could answer with a constraint's name."""
        data = super().clean()
        if data.get("override_funded") is not None and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", "Enter the reason for deciding by policy")
        return data


class ReasonFilter(admin.SimpleListFilter):
    """The decision's reason, in words (the codes stay in the CSV export)."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        """The reasons the user's decisions have (one query), in the vocabulary's order."""
        present = set()
        # No ordering: the model's (by date) would be part of DISTINCT, one row per decision.
        pairs = (
            model_admin.get_queryset(request).values_list("reason", "override_funded").order_by().distinct()
        )
        for reason, override in pairs:
            if override is None:
                present.add(reason)
            else:
                present.add("marked_funded_by_policy" if override else "marked_ineligible_by_policy")
        known = [(code, label) for code, label in REASON_LABELS.items() if code in present]
        return known + [(code, reason_label(code)) for code in sorted(present - set(REASON_LABELS))]

    def queryset(self, request, queryset):
        if self.value() == "marked_funded_by_policy":
            return queryset.filter(override_funded=True)
        if self.value() == "marked_ineligible_by_policy":
            return queryset.filter(override_funded=False)
        if self.value():
            return queryset.filter(reason=self.value(), override_funded__isnull=True)
        return queryset


@admin.register(FundingDecision)
class FundingDecisionAdmin(HubScopedAdmin, SimpleHistoryAdmin):
    form = OverrideForm
    list_display = ("user", "course", "decision_reason", "targeted_support", "assessed")
    list_select_related = ("user", "course__programme", "course__cohort")
    list_filter = (
        ("course__cohort", scoped_filter),
        ("course__programme", scoped_filter),
        ReasonFilter,
        "funded",
        "subject_to_review",
    )
    search_fields = ("user__email", "user__full_name")
    readonly_fields = (
        "user",
        "course",
        "funding_round",
        "outcome",
        "automatic_outcome",
        "review",
        "targeted_support",
        "facts_display",
        "assessed_at",
        "overridden_by",
        "overridden_at",
    )
    fieldsets = (
        (
            "Decision",
            {
                "fields": (
                    "user",
                    "course",
                    "funding_round",
                    "outcome",
                    "automatic_outcome",
                    "review",
                    "targeted_support",
                    "assessed_at",
                )
            },
        ),
        ("The facts it was decided from", {"fields": ("facts_display",)}),
        (
            "Decide by policy",
            {"fields": ("override_funded", "override_reason", "overridden_by", "overridden_at")},
        ),
    )
    actions = (export_as_csv, "reassess")
    change_list_template = "admin/funding/fundingdecision/change_list.html"
    change_form_template = "admin/funding/fundingdecision/change_form.html"
    csv_columns = (
        ("Email", "user.email"),
        ("Programme", "course.programme.code"),
        ("Cohort", "course.cohort.identifier"),
        ("Funded", "effective_funded"),
        ("Reason", "effective_reason"),
        ("Targeted support funding (GBP)", "effective_targeted_support_gbp"),
        ("Override reason", "override_reason"),
    )

    @admin.display(description="Assessed", ordering="assessed_at")
    def assessed(self, obj: FundingDecision) -> str:
        return date_format(timezone.localtime(obj.assessed_at), "j M Y")

    @admin.display(description="Decision")
    def decision_reason(self, obj: FundingDecision) -> str:
        return reason_label(obj.effective_reason)

    @admin.display(description="Outcome")
    def outcome(self, obj: FundingDecision) -> str:
        return reason_label(obj.effective_reason)

    @admin.display(description="Automatic decision")
    def automatic_outcome(self, obj: FundingDecision) -> str:
        return reason_label(obj.reason)

    @admin.display(description="Needs review")
    def review(self, obj: FundingDecision) -> str:
        return "Yes: it joined the review queue" if obj.subject_to_review else "No"

    @admin.display(description="Targeted support funding")
    def targeted_support(self, obj: FundingDecision) -> str:
        return f"£{obj.effective_targeted_support_gbp}"

    @admin.display(description="Facts")
    def facts_display(self, obj: FundingDecision) -> str:
        return facts_summary(obj.facts, html_id="decision-facts")

    def save_model(self, request, obj, form, change):
        try:
            funding_decision_override(
                decision=obj,
                funded=form.cleaned_data["override_funded"],
                reason=form.cleaned_data["override_reason"],
                by=request.user,
            )
        except OverrideError as exc:
            messages.error(request, str(exc))

    def has_add_permission(self, request):
        return False  # decisions come from applications and the rules

    @admin.action(description="Re-assess with the current rules and data", permissions=["change"])
    def reassess(self, request: HttpRequest, queryset) -> None:
        for decision in queryset.select_related("user", "course__cohort__funding_round", "course__programme"):
            funding_decision_reassess(decision=decision)
        count = queryset.count()
        messages.success(
            request, ngettext("%d decision re-assessed.", "%d decisions re-assessed.", count) % count
        )

    def get_urls(self):
        return [
            path(
                "report/", self.admin_site.admin_view(self.report_view), name="funding_fundingdecision_report"
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        rows = funding_report(self.get_queryset(request))
        reasons = [r for r in ALL_REASONS if any(row.not_funded_by_reason[r] for row in rows)]
        # Column headings in words; the codes stay in CSV exports.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Funding report",
            "rows": [(row, [row.not_funded_by_reason[r] for r in reasons]) for row in rows],
            "reasons": [reason_label(r) for r in reasons],
            "total_tsf": sum(row.targeted_support_gbp for row in rows),
        }
        return TemplateResponse(request, "admin/funding/fundingdecision/report.html", context)


class ReviewForm(forms.ModelForm):
    """A step of the review: the status (radios, DfE's four) and a note; both kept with who and
    when (funding/reviews.py). The note is new each time; earlier ones are listed below it."""

    note = forms.CharField(
        label="Note",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed when you change the status. Say why: what you asked for and from whom, why "
        "the applicant must register again, or what was decided (decide the funding by policy on the "
        "decision's page). Kept with your name and the time.",
    )

    class Meta:
        model = FundingReview
        fields = ("status",)
        labels = {"status": "Review status"}
        widgets = {"status": forms.RadioSelect}

    def clean(self):
        """Refused here, next to the field, what funding_review_update would refuse."""
        data = super().clean()
        status, note = data.get("status"), (data.get("note") or "").strip()
        changed = status is not None and status != self.initial.get("status")
        if changed and not note:
            self.add_error(
                "note",
                f"Enter a note saying why the case is now \u201c{FundingReview.Status(status).label}\u201d",
            )
        elif not changed and not note and status is not None:
            self.add_error("note", "Choose a different status or enter a note")
        return data


class ReviewAgeFilter(admin.SimpleListFilter):
    """How long a case has been in the queue (since its decision joined it)."""

    title = "time in the queue"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(code, label) for code, label, _, _ in AGE_BANDS]

    def queryset(self, request, queryset):
        return reviews_in_queue_for(queryset, self.value()) if self.value() else queryset


class ReviewUpdateInline(admin.TabularInline):
    """The review's steps, read-only, for whoever may view the review (hub staff hold no
    permissions on this model of their own)."""

    model = FundingReviewUpdate
    verbose_name = "review step"
    verbose_name_plural = "review history"
    fields = ("when", "by", "status_change", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by").order_by("-at", "-pk")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("funding.view_fundingreview")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="When")
    def when(self, obj: FundingReviewUpdate) -> str:
        return date_format(timezone.localtime(obj.at), "j M Y, H:i")

    @admin.display(description="Status")
    def status_change(self, obj: FundingReviewUpdate) -> str:
        if not obj.to_status:
            return f"{obj.get_from_status_display()} (unchanged)"
        return f"{obj.get_from_status_display()} to {obj.get_to_status_display()}"


@admin.register(FundingReview)
class FundingReviewAdmin(HubScopedAdmin, SimpleHistoryAdmin):
    """The review queue: oldest first, filtered by status and by time in the queue."""

    form = ReviewForm
    list_display = ("decision_user", "decision_course", "employment", "status", "in_queue_for", "status_set")
    list_select_related = (
        "decision__user",
        "decision__course__programme",
        "decision__course__cohort",
        "status_changed_by",
    )
    list_filter = ("status", ReviewAgeFilter, ("decision__course__cohort", scoped_filter))
    search_fields = ("decision__user__email",)
    readonly_fields = (
        "applicant",
        "decision_link",
        "why",
        "employment",
        "opened",
        "status_set",
        "earlier_notes",
    )
    fieldsets = (
        (
            "The case",
            {"fields": ("applicant", "decision_link", "why", "employment", "opened", "earlier_notes")},
        ),
        ("Review", {"fields": ("status", "status_set", "note")}),
    )
    inlines = (ReviewUpdateInline,)
    csv_columns = (
        ("Email", "decision.user.email"),
        ("Programme", "decision.course.programme.code"),
        ("Status", "status"),
        ("In the queue since", "opened_at"),
    )

    @admin.display(description="Applicant", ordering="decision__user__email")
    def decision_user(self, obj: FundingReview) -> str:
        return obj.decision.user.email

    @admin.display(description="Applicant")
    def applicant(self, obj: FundingReview) -> str:
        user = obj.decision.user
        return f"{user.full_name} ({user.email})" if getattr(user, "full_name", "") else user.email

    @admin.display(description="Course")
    def decision_course(self, obj: FundingReview) -> str:
        return str(obj.decision.course)

    @admin.display(description="Funding decision")
    def decision_link(self, obj: FundingReview) -> str:
        url = reverse("admin:funding_fundingdecision_change", args=[obj.decision_id])
        return format_html(
            '<a href="{}">{}: {}</a> (decide by policy there)',
            url,
            obj.decision.course,
            reason_label(obj.decision.effective_reason),
        )

    @admin.display(description="Why it is reviewed")
    def why(self, obj: FundingReview) -> str:
        return reason_label(obj.decision.reason)

    @admin.display(description="Role")
    def employment(self, obj: FundingReview) -> str:
        kind = obj.decision.facts.get("employment_type") or ""
        return EMPLOYMENT_TYPES.get(kind, kind.replace("_", " ")) or "–"

    @admin.display(description="In the queue for", ordering="opened_at")
    def in_queue_for(self, obj: FundingReview) -> str:
        return age_in_words(obj.opened_at)

    @admin.display(description="In the queue since")
    def opened(self, obj: FundingReview) -> str:
        return f"{date_format(timezone.localtime(obj.opened_at), 'j M Y')} ({age_in_words(obj.opened_at).lower()})"

    @admin.display(description="Status set", ordering="status_changed_at")
    def status_set(self, obj: FundingReview) -> str:
        if obj.status_changed_at is None:
            return "When the case joined the queue"
        return f"{date_format(timezone.localtime(obj.status_changed_at), 'j M Y, H:i')} by {obj.status_changed_by or 'the portal'}"

    @admin.display(description="Notes from before the review history")
    def earlier_notes(self, obj: FundingReview) -> str:
        return obj.notes or "None"

    def save_model(self, request, obj, form, change):
        """Through the service: the step is recorded with who and when, under a row lock."""
        try:
            funding_review_update(
                review=obj,
                status=form.cleaned_data.get("status"),
                note=form.cleaned_data.get("note", ""),
                by=request.user,
            )
        except ReviewError as exc:
            messages.error(request, str(exc))

    def has_add_permission(self, request):
        return False
