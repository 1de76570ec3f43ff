"""Hub decisions in admin: the accept, reject, confirm-the-endorser and ask-again pages of an application."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from programmes.models import Group
from programmes.selectors import visible_to

from ..endorsement_checks import application_check, current_endorsement
from ..funded_place_admin import funded_place_choice
from ..funded_places import funded_places_summary
from ..models import Application
from ..selectors import status_phrase
from ..services import (
    TRANSITIONS,
    ApplicationError,
    OutOfTurnReasonNeeded,
    accept_needs_out_of_turn_reason,
    application_accept,
    application_reject,
    endorsement_domain_confirm,
    endorsement_request_again,
)


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Reason (the applicant sees this)"
    )


class AskAgainForm(forms.Form):
    name = forms.CharField(label="Endorser's full name", max_length=200)
    email = forms.EmailField(
        label="Endorser's email address",
        help_text="Their school or work address. The earlier link stops working at once.",
    )


class AcceptForm(forms.Form):
    funded_place = funded_place_choice()
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(),
        required=False,
        help_text="Leave empty to use the first group with a free place.",
    )
    out_of_turn_reason = forms.CharField(
        label="Reason for accepting out of turn",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="People are on the waiting list ahead of this application, and free places are "
        "held for them in turn. Say why this application should be accepted first.",
    )


S = Application.Status


def staff_may(application: Application, to: str) -> bool:
    """Whether the state machine lets the application become ``to`` (staff see only the
    actions that can succeed)."""
    return to in TRANSITIONS[Application.Status(application.status)]


class ApplicationDecisionViews:
    """For ApplicationAdmin: each decision on its own page, which the state machine may refuse."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/accept/", view(self.accept_view), name="applications_application_accept"),
            path("<int:pk>/reject/", view(self.reject_view), name="applications_application_reject"),
            path(
                "<int:pk>/endorsement/confirm/",
                view(self.confirm_endorser_view),
                name="applications_application_confirm_endorser",
            ),
            path(
                "<int:pk>/endorsement/ask-again/",
                view(self.ask_again_view),
                name="applications_application_ask_again",
            ),
            *super().get_urls(),
        ]

    def _object(self, request: HttpRequest, pk: int) -> Application:
        from django.shortcuts import get_object_or_404

        application = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, application):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return application

    def _refusal(self, request, application, to: str, label: str) -> HttpResponse | None:
        """The page without a form when the state machine would refuse the change anyway."""
        if staff_may(application, to):
            return None
        verb = "accepted" if to == S.ACCEPTED else "rejected"
        blocked = (
            f"Only an endorsed application, or one on the waiting list, can be {verb}. "
            f"This one {status_phrase(application.status)}."
        )
        return self._page(request, application, None, label, blocked=blocked)

    def accept_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        if refusal := self._refusal(request, application, S.ACCEPTED, "Accept"):
            return refusal
        form = AcceptForm(request.POST or None)
        form.fields["group"].queryset = visible_to(
            Group.objects.filter(course_id=application.course_id), request.user
        ).select_related("course__programme", "course__cohort")  # each choice's label
        if accept_needs_out_of_turn_reason(application) is None:
            del form.fields["out_of_turn_reason"]
        form.fields["funded_place"].help_text = funded_places_summary(application)
        if request.method == "POST" and form.is_valid():
            try:
                application_accept(
                    application=application,
                    by=request.user,
                    group=form.cleaned_data["group"],
                    out_of_turn_reason=form.cleaned_data.get("out_of_turn_reason", ""),
                    funded_place=form.cleaned_data.get("funded_place"),
                )
            except OutOfTurnReasonNeeded as exc:  # said next to the field that answers it
                form.add_error(
                    "out_of_turn_reason" if "out_of_turn_reason" in form.fields else None, str(exc)
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"NPQ-{application.pk:06d} accepted.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Accept")

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        if refusal := self._refusal(request, application, S.REJECTED, "Reject"):
            return refusal
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                application_reject(
                    application=application, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"NPQ-{application.pk:06d} not accepted.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Reject")

    def confirm_endorser_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Staff checked with the school that the address is the endorser's."""
        application = self._object(request, pk)
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            endorsement = current_endorsement(application)
            try:
                if endorsement is None:
                    raise ApplicationError("This application has no endorsement request to confirm.")
                endorsement_domain_confirm(endorsement=endorsement, by=request.user)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"You confirmed {endorsement.endorser_email} as the endorser.")
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Confirm the endorser")

    def ask_again_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._object(request, pk)
        form = AskAgainForm(
            request.POST or None,
            initial={"name": application.endorser_name, "email": application.endorser_email},
        )
        if request.method == "POST" and form.is_valid():
            try:
                endorsement = endorsement_request_again(
                    application=application,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    by=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"We have emailed {endorsement.endorser_email} a new link. The earlier link no longer works.",
                )
                return redirect(reverse("admin:applications_application_change", args=[pk]))
        return self._page(request, application, form, "Ask for the endorsement again")

    def _page(self, request, application, form, label, *, blocked: str = "") -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"{label}: NPQ-{application.pk:06d}",
            "form": form,
            "action_label": label,
            "address_check": application_check(application),
            "blocked": blocked,
        }
        return TemplateResponse(request, "admin/applications/application/decision.html", context)
