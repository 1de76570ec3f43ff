"""Admin pages that are not a model's list or form: enrolment status changes.

Each fetches its object through the ModelAdmin's scoped queryset (404 outside the user's
scope), checks the model permission, and calls a service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import FormView

from .models import Group
from .selectors import visible_to
from .services import (
    DEFERRAL_REASONS,
    WITHDRAWAL_REASONS,
    EnrolmentError,
    participant_defer,
    participant_move_group,
    participant_resume,
    participant_withdraw,
)


class AdminPageMixin:
    model_admin: Any = None

    def admin_context(self, title: str) -> dict[str, Any]:
        return {
            **self.model_admin.admin_site.each_context(self.request),
            "opts": self.model_admin.model._meta,
            "title": title,
        }


class StatusChangeForm(forms.Form):
    reason = forms.ChoiceField(required=False)
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False)
    on = forms.DateField(
        required=False,
        label="Date",
        help_text="Leave empty for today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


STATUS_CHANGES = {
    "defer": ("Defer", DEFERRAL_REASONS),
    "resume": ("Resume", None),
    "withdraw": ("Withdraw", WITHDRAWAL_REASONS),
    "move": ("Move to another group", None),
}


class ParticipantStatusView(AdminPageMixin, FormView):
    template_name = "admin/programmes/participant/status_change.html"
    form_class = StatusChangeForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.change = kwargs["change"]
        if self.change not in STATUS_CHANGES:
            raise Http404
        self.participant = get_object_or_404(
            self.model_admin.get_queryset(request).select_related("user", "course__programme", "group"),
            pk=kwargs["participant_id"],
        )
        if not self.model_admin.has_change_permission(request, self.participant):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        reasons = STATUS_CHANGES[self.change][1]
        if reasons:
            form.fields["reason"].choices = [("", "Choose a reason"), *reasons.items()]
            form.fields["reason"].required = True
        else:
            del form.fields["reason"]
        if self.change == "move":
            form.fields["group"].queryset = (
                visible_to(Group.objects.filter(course_id=self.participant.course_id), self.request.user)
                .exclude(pk=self.participant.group_id)
                .select_related("course__programme", "course__cohort")  # each choice's label
            )
            form.fields["group"].required = True
            del form.fields["on"]
        else:
            del form.fields["group"]
        if self.change == "resume":
            form.fields["on"].required = False
        return form

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        label = STATUS_CHANGES[self.change][0]
        return {
            **super().get_context_data(**kwargs),
            **self.admin_context(f"{label}: {self.participant}"),
            "participant": self.participant,
            "original": self.participant,
            "action_label": label,
        }

    def form_valid(self, form: StatusChangeForm) -> HttpResponse:
        data, by, p = form.cleaned_data, self.request.user, self.participant
        try:
            if self.change == "defer":
                participant_defer(participant=p, reason=data["reason"], on=data["on"], by=by)
            elif self.change == "resume":
                participant_resume(participant=p, on=data["on"], by=by)
            elif self.change == "withdraw":
                participant_withdraw(participant=p, reason=data["reason"], on=data["on"], by=by)
            else:
                participant_move_group(participant=p, group=data["group"], by=by)
        except EnrolmentError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, f"{STATUS_CHANGES[self.change][0]}: done for {p.user}.")
        return redirect(reverse("admin:programmes_participant_change", args=[p.pk]))
