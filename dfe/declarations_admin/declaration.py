"""The declaration pages: a cohort's declarations (due, ready, at risk, declared with DfE's
state) and the chart, declaring the ready in bulk, a participant's declarations and evidence
(printable), declaring one, voiding with a reason, and the assurance pack's CSV."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from common.csv_export import csv_response
from programmes.admin import HubScopedAdmin, ReadOnlyMixin
from programmes.models import Cohort, Participant
from programmes.selectors import administered, register_scope, visible_to

from ..declarations import (
    CHART_STATES,
    TYPE_WORDS,
    DeclarationError,
    cohort_chart,
    cohort_standing,
    declare,
    evidence_intact,
    gather_evidence,
    void,
)
from ..models import Declaration
from .assurance import ASSURANCE_COLUMNS, assurance_rows

register_scope(Declaration, hub_path="dfe_application__application__cohort__hub")


class DeclareForm(forms.Form):
    declaration_type = forms.ChoiceField(label="Declaration", choices=list(TYPE_WORDS.items()))
    declaration_date = forms.DateField(
        label="Date of the declaration (leave empty for now)",
        required=False,
        help_text="For example, 27 3 2026 or 2026-03-27. Not in the future nor before the schedule starts.",
        input_formats=["%Y-%m-%d", "%d %m %Y", "%d/%m/%Y"],
    )
    override_reason = forms.CharField(
        label="Reason to declare without evidence that meets the rule (only if it does not)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Why void this declaration", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


def _visible_cohort(request: HttpRequest, cohort_id: int) -> Cohort:
    return get_object_or_404(
        visible_to(Cohort.objects.select_related("hub__lead_provider"), request.user), pk=cohort_id
    )


def _visible_participant(request: HttpRequest, participant_id: int) -> Participant:
    return get_object_or_404(
        visible_to(Participant.objects.select_related("user", "course__cohort__hub"), request.user),
        pk=participant_id,
    )


def _may_declare(request: HttpRequest, cohort: Cohort) -> bool:
    return administered(Cohort.objects.filter(pk=cohort.pk), request.user).exists()


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyMixin, HubScopedAdmin):
    list_display = ("participant_name", "declaration_type", "declaration_date", "state", "evidence_link")
    list_filter = ("state", "declaration_type")
    list_select_related = ("dfe_application", "evidence")
    search_fields = ("dfe_application__full_name", "dfe_application__trn")
    fields = (
        "dfe_application",
        "declaration_type",
        "declaration_date",
        "has_passed",
        "state",
        "ineligible_reason",
        "error",
        "evidence_link",
        "override_reason",
        "void_reason",
        "created_at",
        "created_by",
        "sent_at",
        "dfe_id",
        "delivery_partner_id",
    )
    readonly_fields = fields

    @admin.display(description="Participant")
    def participant_name(self, obj: Declaration) -> str:
        return obj.dfe_application.full_name

    @admin.display(description="Evidence")
    def evidence_link(self, obj: Declaration) -> str:
        if obj.evidence_id is None:
            return "None (declared with a reason)"
        url = reverse("admin:dfe_evidence_change", args=[obj.evidence_id])
        return format_html(
            '<a href="{}">Evidence recorded {}</a>',
            url,
            timezone.localtime(obj.evidence.made_at).strftime("%-d %B %Y"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("cohorts/", view(self.cohorts_view), name="dfe_declaration_cohorts"),
            path("cohorts/<int:cohort_id>/", view(self.cohort_view), name="dfe_declaration_cohort"),
            path(
                "cohorts/<int:cohort_id>/assurance.csv",
                view(self.assurance_view),
                name="dfe_declaration_assurance",
            ),
            path(
                "participants/<int:participant_id>/",
                view(self.participant_view),
                name="dfe_declaration_participant",
            ),
            path("<int:pk>/void/", view(self.void_view), name="dfe_declaration_void"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def cohorts_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        cohorts = visible_to(Cohort.objects.select_related("hub"), request.user).order_by(
            "-start_date", "hub__name"
        )
        return TemplateResponse(
            request,
            "admin/dfe/declaration/cohorts.html",
            self._context(request, title="Declarations to DfE by cohort", cohorts=cohorts),
        )

    def cohort_view(self, request: HttpRequest, cohort_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        cohort = _visible_cohort(request, cohort_id)
        course_ids = list(cohort.courses.values_list("pk", flat=True))
        may_declare = _may_declare(request, cohort)
        if request.method == "POST":
            if not may_declare:
                raise PermissionDenied
            return self._declare_ready(request, cohort, course_ids)
        unscheduled: list = []
        rows = cohort_standing(
            course_ids=course_ids, lead_provider_id=cohort.hub.lead_provider_id, unscheduled=unscheduled
        )
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(
                row.type_words, {"due": 0, "ready": 0, "at_risk": 0, "declared": 0, "missed": 0, "not_yet": 0}
            )
            counts[row.type_words]["due"] += 1
            counts[row.type_words][row.state] += 1
        return TemplateResponse(
            request,
            "admin/dfe/declaration/cohort.html",
            self._context(
                request,
                title=f"Declarations to DfE: {cohort}",
                cohort=cohort,
                rows=rows,
                counts=counts,
                chart=cohort_chart(rows),
                states=CHART_STATES,
                may_declare=may_declare,
                unscheduled=unscheduled,
            ),
        )

    def _declare_ready(self, request: HttpRequest, cohort: Cohort, course_ids: list[int]) -> HttpResponse:
        """Declare the chosen rows that are ready (evidence met); the others are left, in words."""
        chosen = request.POST.getlist("declare")
        rows = {
            f"{r.participant.pk}:{r.declaration_type}": r
            for r in cohort_standing(course_ids=course_ids, lead_provider_id=cohort.hub.lead_provider_id)
        }
        made, refused = 0, []
        for key in chosen[:1000]:
            row = rows.get(str(key))
            if row is None or row.state != "ready":
                continue  # not one of this cohort's, or no longer ready: nothing sent
            try:
                declare(row.participant, row.declaration_type, by=request.user)
            except DeclarationError as exc:
                refused.append(f"{row.participant.user}: {exc}")
            else:
                made += 1
        if made:
            self.message_user(
                request, f"{made} declaration(s) recorded and being sent to DfE.", messages.SUCCESS
            )
        for text in refused[:20]:
            self.message_user(request, text, messages.WARNING)
        if not made and not refused:
            self.message_user(request, "Choose participants ready to declare.", messages.WARNING)
        return redirect(reverse("admin:dfe_declaration_cohort", args=[cohort.pk]))

    def assurance_view(self, request: HttpRequest, cohort_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        cohort = _visible_cohort(request, cohort_id)
        return csv_response(f"assurance-{cohort.identifier}.csv", ASSURANCE_COLUMNS, assurance_rows(cohort))

    def participant_view(self, request: HttpRequest, participant_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        participant = _visible_participant(request, participant_id)
        cohort = participant.course.cohort
        may_declare = _may_declare(request, cohort)
        form = DeclareForm(request.POST or None)
        if request.method == "POST":
            if not may_declare:
                raise PermissionDenied
            if form.is_valid():
                day = form.cleaned_data["declaration_date"]
                try:
                    declare(
                        participant,
                        form.cleaned_data["declaration_type"],
                        by=request.user,
                        override_reason=form.cleaned_data["override_reason"],
                        # A day given: its start in UTC (RFC 3339 at DfE), never later than now.
                        declaration_date=min(datetime.combine(day, time.min, tzinfo=UTC), timezone.now())
                        if day and day <= timezone.localdate()
                        else (datetime.combine(day, time.min, tzinfo=UTC) if day else None),
                    )
                except DeclarationError as exc:
                    form.add_error(None, str(exc))
                else:
                    self.message_user(
                        request, "The declaration is recorded and being sent to DfE.", messages.SUCCESS
                    )
                    return redirect(reverse("admin:dfe_declaration_participant", args=[participant.pk]))
        declarations = list(
            Declaration.objects.filter(dfe_application__application__participant=participant)
            .select_related("evidence", "created_by")
            .order_by("created_at", "pk")
        )
        lead_provider_id = cohort.hub.lead_provider_id
        now = [
            (TYPE_WORDS[t], gather_evidence(participant, t, lead_provider_id=lead_provider_id))
            for t in TYPE_WORDS
        ]
        return TemplateResponse(
            request,
            "admin/dfe/declaration/participant.html",
            self._context(
                request,
                title=f"Declarations and evidence: {participant.user}",
                participant=participant,
                cohort=cohort,
                declarations=[(d, d.evidence and evidence_intact(d.evidence)) for d in declarations],
                now=now,
                form=form,
                may_declare=may_declare,
            ),
        )

    def void_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        declaration = get_object_or_404(
            self.get_queryset(request).select_related("dfe_application__application__participant"), pk=pk
        )
        if not administered(Declaration.objects.filter(pk=pk), request.user).exists():
            raise PermissionDenied
        form = VoidForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    void(declaration, reason=form.cleaned_data["reason"], by=request.user)
            except DeclarationError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, "The declaration is voided.", messages.SUCCESS)
                participant_id = declaration.dfe_application.application.participant_id
                return redirect(reverse("admin:dfe_declaration_participant", args=[participant_id]))
        return TemplateResponse(
            request,
            "admin/dfe/declaration/void.html",
            self._context(
                request, title=f"Void the declaration: {declaration}", declaration=declaration, form=form
            ),
        )
