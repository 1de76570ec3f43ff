"""The public "check your funding" pages: no sign-in, answers kept in the session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common import journey
from programmes.models import Programme

from .checker import (
    STEP_FIELDS,
    STEPS,
    answers_after_saving,
    answers_on_route,
    facts_from_answers,
    next_step,
    route,
    workplace_form_class,
)
from .eligibility import decide, parse_facts
from .models import FundingRound, Institution

SESSION_KEY = "funding_check"
CAPTION = "Check your NPQ funding"
NOT_LISTED_PARAMETER = "not-listed"
NOT_LISTED_TITLE = "What is the name and postcode of your workplace?"


def checker_round() -> FundingRound:
    """FUNDING_CHECK_ROUND when set; otherwise the round DfE applies to registrations today."""
    if settings.FUNDING_CHECK_ROUND:
        return FundingRound.objects.get(code=settings.FUNDING_CHECK_ROUND)
    return FundingRound.in_force(timezone.localdate()) or FundingRound.objects.order_by("-code").first()


def _answers(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY, {}))


def _back(answers: dict[str, Any], step: str) -> str:
    return journey.back_link(
        answers,
        step,
        next_step,
        STEP_FIELDS,
        "result",
        end_url=reverse("funding_check_result"),  # changing an answer from the result page
        step_url=lambda previous: reverse("funding_check_step", args=[previous]),
        start_url=reverse("funding_check"),
    )


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.session[SESSION_KEY] = {}
        return redirect("funding_check_step", "course")
    return render(request, "funding/start.html", {"funding_round": checker_round()})


@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404
    answers = _answers(request)
    not_listed = NOT_LISTED_PARAMETER in request.GET
    form_class, title = STEPS[step]
    form_class = workplace_form_class(step, not_listed) or form_class
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid() and not getattr(form, "incomplete", False):
            kept = answers_after_saving(answers, step, form.cleaned_data)
            request.session[SESSION_KEY] = kept
            following = next_step(kept)
            if following == "result":
                return redirect("funding_check_result")
            return redirect("funding_check_step", following)
    else:
        form = form_class(initial=answers)
    context = {
        "form": form,
        "title": title,
        "caption": CAPTION,
        "page_heading": step != "workplace" and journey.page_heading(form),
        "back_url": _back(answers, step),
    }
    if step == "workplace":
        url = reverse("funding_check_step", args=[step])
        context.update(search_url=url, not_listed_url=f"{url}?{NOT_LISTED_PARAMETER}", not_listed=not_listed)
        if not_listed:
            context.update(title=NOT_LISTED_TITLE, back_url=url)
        return render(request, "funding/workplace.html", context)
    return render(request, "question.html", context)


def result(request: HttpRequest) -> HttpResponse:
    answers = _answers(request)
    step = next_step(answers)
    if step != "result":
        return redirect("funding_check_step", step)
    answers = answers_on_route(answers)
    funding_round = checker_round()
    decision = decide(parse_facts(facts_from_answers(answers, funding_round)), funding_round.rules())
    programme = Programme.objects.get(code=answers["course"])
    return render(
        request,
        "funding/result.html",
        {
            "decision": decision,
            "programme": programme,
            "explanation": decision.explanation(programme.name),
            "summary": _summary(answers),
            "back_url": _back(answers, "result"),
        },
    )


def _summary(answers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(question, answer in words, change link) for each answer on the route."""
    rows = []
    for step in route(answers):
        url = reverse("funding_check_step", args=[step])
        if step == "workplace" and answers.get("workplace_not_listed"):
            rows.append(("Workplace", unlisted_workplace_text(answers), f"{url}?{NOT_LISTED_PARAMETER}"))
            continue
        form = STEPS[step][0]()
        for name, field in form.fields.items():
            if name not in answers or (name == "workplace"):
                continue
            value = answers[name]
            if name == "urn":
                institution = Institution.objects.filter(urn=value).first()
                rows.append(("Workplace", str(institution or value), url))
                continue
            choices = dict(getattr(field, "choices", []) or [])
            rows.append((str(field.label), str(choices.get(value, value)), url))
    return rows


def unlisted_workplace_text(answers: dict[str, Any]) -> str:
    name = answers.get("workplace_name", "")
    postcode = answers.get("workplace_postcode", "")
    return f"{name}, {postcode} (not listed: your hub will check it)" if postcode else name
