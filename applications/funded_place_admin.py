"""Funded places in admin: the choice when accepting, the place's funding on the application's
page with its history, and staff changing it later with a reason (applications/funded_places.py)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format

from common.admin_accessibility import LabelledTabularInline
from funding.wording import FUNDED_PLACE as FUNDED_PLACE_WORDS

from .funded_places import FundedPlaceError, funded_place_change
from .models import Application, FundedPlaceChange


def funded_place_choice() -> forms.TypedChoiceField:
    """The accept form's choice: by default the funding decision says (funded only if eligible)."""
    return forms.TypedChoiceField(
        label="Funded place",
        choices=[
            ("", "As the funding decision says: a funded place only if the applicant is eligible"),
            (
                "yes",
                "A funded place (the applicant must be eligible; uses one of the course's funded places)",
            ),
            ("no", "Paid by the school or the participant (uses no funded place)"),
        ],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class FundedPlaceForm(forms.Form):
    funded_place = forms.TypedChoiceField(
        label="Is this a funded place?",
        choices=[("yes", "Yes: a funded place"), ("no", "No: paid by the school or the participant")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether this is a funded place"},
    )
    reason = forms.CharField(
        label="Reason for the change",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the place's history, with your name and the time.",
        error_messages={"required": "Enter the reason for changing the funded place"},
    )


class FundedPlaceChangeInline(LabelledTabularInline):
    """Read-only, for whoever may view the application (hub staff hold no permissions on this
    model of their own)."""

    model = FundedPlaceChange
    verbose_name = "funded place change"
    verbose_name_plural = "funded place history"
    fields = ("when", "by", "change", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "by", "application__user", "application__course__programme", "application__cohort"
            )
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("applications.view_application")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="When")
    def when(self, obj: FundedPlaceChange) -> str:
        return date_format(timezone.localtime(obj.at), "j M Y, H:i")

    @admin.display(description="Funded place")
    def change(self, obj: FundedPlaceChange) -> str:
        if obj.funded_place_before is None:
            return FUNDED_PLACE_WORDS[obj.funded_place]
        return f"{FUNDED_PLACE_WORDS[obj.funded_place_before]}, changed to {FUNDED_PLACE_WORDS[obj.funded_place]}"


class FundedPlaceAdminMixin:
    """For ApplicationAdmin: its ``_object`` gives the application only to staff of its hub."""

    @admin.display(description="Funded place")
    def funded_place_words(self, obj: Application) -> str:
        if obj.status != Application.Status.ACCEPTED:
            return "Set when the application is accepted"
        return FUNDED_PLACE_WORDS[obj.funded_place]

    def get_inlines(self, request, obj):
        """The funded place's history only where there is one: accepted applications (the page
        of an application still in the queue costs no query for it)."""
        inlines = super().get_inlines(request, obj)
        if obj is None or obj.status != Application.Status.ACCEPTED:
            inlines = [inline for inline in inlines if inline is not FundedPlaceChangeInline]
        return inlines

    def get_urls(self):
        return [
            path(
                "<int:pk>/funded-place/",
                self.admin_site.admin_view(self.funded_place_view),
                name="applications_application_funded_place",
            ),
            *super().get_urls(),
        ]

    def funded_place_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        blocked = ""
        if application.status != Application.Status.ACCEPTED:
            blocked = "Only an accepted application has a place whose funding can be changed."
        form = FundedPlaceForm(
            request.POST or None,
            initial={"funded_place": {True: "yes", False: "no"}.get(application.funded_place)},
        )
        if request.method == "POST" and not blocked and form.is_valid():
            try:
                funded_place_change(
                    application=application,
                    funded_place=form.cleaned_data["funded_place"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except FundedPlaceError as exc:
                form.add_error("funded_place", str(exc))
            else:
                messages.success(request, f"The funded place of NPQ-{application.pk:06d} was changed.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"Change the funded place: NPQ-{application.pk:06d}",
            "form": form,
            "blocked": blocked,
            "now": FUNDED_PLACE_WORDS[application.funded_place],
        }
        return TemplateResponse(request, "admin/applications/application/funded_place.html", context)
