"""Applicant and endorser pages. Every object is fetched through a helper that checks the user."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common import journey
from common.dates import long_date
from funding.views import NOT_LISTED_PARAMETER, NOT_LISTED_TITLE, unlisted_workplace_text
from programmes.models import Participant

from . import wizard
from .forms import CohortForm, EmploymentChangeForm, EndorsementForm, WithdrawForm
from .models import Application
from .selectors import application_timeline, open_cohorts
from .services import (
    ApplicationError,
    EndorsementLinkError,
    PlaceAlreadyHeld,
    application_save_answers,
    application_start,
    application_submit,
    application_withdraw,
    applications_expire_stale,
    employment_change_request,
    endorsement_decide,
    endorsement_for_token,
    may_endorse,
    registration_deadline,
)

CAPTION = "Apply for an NPQ"


def own_application(request: HttpRequest, pk: int) -> Application:
    """The signed-in user's own application, or 404 (never someone else's)."""
    return get_object_or_404(
        Application.objects.select_related(
            "cohort__hub", "cohort__funding_round", "course__programme", "user"
        ),
        pk=pk,
        user=request.user,
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    """Choose the cohort (the first question); starting makes a draft that is saved as you go."""
    cohorts = open_cohorts(on=timezone.localdate())
    form = CohortForm(request.POST if request.method == "POST" else None, cohorts=cohorts, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            application = application_start(user=request.user, cohort=form.cleaned_data["cohort"])
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect("apply")
        return redirect("application_step", application.pk, wizard.next_step(application.answers))
    return render(request, "applications/apply.html", {"cohorts": cohorts, "form": form})


def _draft_or_redirect(request: HttpRequest, application: Application) -> HttpResponse | None:
    if application.status == Application.Status.DRAFT and timezone.now() > registration_deadline(application):
        applications_expire_stale()
        application.refresh_from_db()
    if application.status != Application.Status.DRAFT:
        return redirect("application_detail", application.pk)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    application = own_application(request, pk)
    if step not in wizard.STEPS:
        raise Http404
    if (response := _draft_or_redirect(request, application)) is not None:
        return response
    answers = application.answers
    if step != wizard.next_step(answers) and step not in wizard.route(answers):
        return redirect("application_step", pk, wizard.next_step(answers))  # no skipping ahead
    not_listed = NOT_LISTED_PARAMETER in request.GET
    form = wizard.build_form(
        step, application, request.POST if request.method == "POST" else None, not_listed=not_listed
    )
    if request.method == "POST" and form.is_valid() and not getattr(form, "incomplete", False):
        kept = wizard.answers_after_saving(application, step, dict(form.cleaned_data))
        application = application_save_answers(
            application=application, values=kept, drop=tuple(set(answers) - set(kept))
        )
        following = wizard.next_step(application.answers)
        if following == wizard.END:
            return redirect("application_check", pk)
        return redirect("application_step", pk, following)
    back_url = journey.back_link(
        answers,
        step,
        wizard.next_step,
        wizard.STEP_FIELDS,
        wizard.END,
        end_url=reverse("application_check", args=[pk]),  # a change from check your answers
        step_url=lambda previous: reverse("application_step", args=[pk, previous]),
        start_url=reverse("apply"),
    )
    context = {
        "form": form,
        "title": wizard.step_title(step, application),
        "caption": CAPTION,
        # the workplace list under the search is not a question of its own
        "page_heading": journey.page_heading(form, not_counted=("urn",)),
        "back_url": back_url,
        "application": application,
    }
    if step == "funding":
        decision = wizard.funding_preview(application)
        context.update(decision=decision, explanation=decision.explanation(application.course.programme.name))
        return render(request, "applications/funding.html", context)
    if step == "workplace":
        url = reverse("application_step", args=[pk, step])
        context.update(search_url=url, not_listed_url=f"{url}?{NOT_LISTED_PARAMETER}", not_listed=not_listed)
        if not_listed:
            context.update(title=NOT_LISTED_TITLE, back_url=url)
        return render(request, "funding/workplace.html", context)
    if step == "course" and form.held:
        context["held"] = list(form.held.values())
    return render(request, "question.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, pk: int) -> HttpResponse:
    """Check your answers, with change links; submitting sends the endorsement request."""
    application = own_application(request, pk)
    if (response := _draft_or_redirect(request, application)) is not None:
        return response
    if wizard.next_step(application.answers) != wizard.END:
        return redirect("application_step", pk, wizard.next_step(application.answers))
    error = error_url = None
    if request.method == "POST":
        try:
            application_submit(application=application, by=request.user)
        except PlaceAlreadyHeld as exc:
            error, error_url = str(exc), reverse("enrolment", args=[exc.participant.pk])
        except ApplicationError as exc:
            error = str(exc)
        else:
            return redirect("application_submitted", pk)
    return render(
        request,
        "applications/check.html",
        {
            "application": application,
            "rows": _answer_rows(application),
            "error": error,
            "error_url": error_url,
            "endorser_title": wizard.endorser_title(application),
        },
    )


def _answer_rows(application: Application) -> list[tuple[str, str, str]]:
    """(question, answer in words, change link) for each answer on the route."""
    rows = []
    answers = wizard.answers_on_route(application.answers)
    for step_name in wizard.route(answers):
        if step_name == "funding":
            continue
        url = reverse("application_step", args=[application.pk, step_name])
        if step_name == "workplace" and answers.get("workplace_not_listed"):
            rows.append(("Workplace", unlisted_workplace_text(answers), f"{url}?{NOT_LISTED_PARAMETER}"))
            continue
        form = wizard.build_form(step_name, application)
        for name, field in form.fields.items():
            if name not in answers or name == "workplace":
                continue
            value = answers[name]
            if name == "urn":
                rows.append(("Workplace", answers.get("workplace_name") or str(value), url))
                continue
            if name == "consent":
                rows.append(("Sharing your information", "Agreed", url))
                continue
            if name == "senco_in_role_since" and value == "not_yet":
                rows.append((str(field.label), "I am not a SENCO yet", url))
                continue
            if name in ("date_of_birth", "senco_in_role_since"):
                shown = date.fromisoformat(value)
                text = long_date(shown, with_day=name != "senco_in_role_since")
                rows.append((str(field.label), text, url))
                continue
            choices = {str(k): v for k, v in (getattr(field, "choices", None) or [])}
            rows.append((str(field.label), str(choices.get(str(value), value)), url))
    return rows


@login_required
def submitted(request: HttpRequest, pk: int) -> HttpResponse:
    application = own_application(request, pk)
    return render(
        request,
        "applications/submitted.html",
        {
            "application": application,
            "endorser_title": wizard.endorser_title(application),
            "link_days": settings.ENDORSEMENT_LINK_DAYS,
        },
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = own_application(request, pk)
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "timeline": application_timeline(application=application),
            "can_withdraw": application.status in Application.OPEN_STATUSES,
            "decision": application.funding_decision,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = own_application(request, pk)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            application_withdraw(application=application, by=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Your application has been withdrawn.")
        return redirect("application_detail", pk)
    return render(request, "applications/withdraw.html", {"application": application, "form": form})


@require_http_methods(["GET", "POST"])
def endorsement(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: only the named endorser, signed in with that address, may answer."""
    try:
        request_ = endorsement_for_token(token)
    except EndorsementLinkError as exc:
        return render(request, "applications/endorsement_unavailable.html", {"message": str(exc)}, status=404)
    if not request.user.is_authenticated:
        # Say who asked, for what, and which address to sign in (or create an account) with.
        return render(request, "applications/endorsement_sign_in.html", {"endorsement": request_})
    if not may_endorse(endorsement=request_, user=request.user):
        return render(
            request, "applications/endorsement_wrong_person.html", {"endorsement": request_}, status=403
        )
    form = EndorsementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decided = endorsement_decide(
                token=token,
                user=request.user,
                endorse=form.cleaned_data["decision"] == "endorse",
                reason=form.cleaned_data.get("reason", ""),
            )
        except EndorsementLinkError as exc:
            return render(
                request, "applications/endorsement_unavailable.html", {"message": str(exc)}, status=404
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            return render(request, "applications/endorsement_done.html", {"endorsement": decided})
    application = request_.application
    return render(
        request,
        "applications/endorsement.html",
        {
            "endorsement": request_,
            "application": application,
            "form": form,
            "employment": request_.employment,
            "endorser_title": wizard.endorser_title(application),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def employment_change(request: HttpRequest, participant_pk: int) -> HttpResponse:
    participant = get_object_or_404(
        Participant.objects.select_related("course__programme"), pk=participant_pk, user=request.user
    )
    form = EmploymentChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employment_change_request(participant=participant, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, "We have asked your new headteacher to confirm that you can continue your NPQ."
            )
            return redirect("home")
    return render(
        request,
        "question.html",
        {
            "form": form,
            "title": "Continue your NPQ at a new school",
            "caption": participant.course.programme.name,
            "page_heading": True,
            "back_url": reverse("home"),
        },
    )
