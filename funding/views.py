"""The public "check your funding" pages: no sign-in, answers kept in the session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from npq_portal import journey
from programmes.models import Programme

from .checker import STEP_FIELDS, STEPS, facts_from_answers, next_step, route
from .eligibility import decide, parse_facts
from .models import FundingRound, Institution

SESSION_KEY = "funding_check"


def checker_round() -> FundingRound:
    return FundingRound.objects.get(code=settings.FUNDING_CHECK_ROUND)


def _answers(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY, {}))


def _back(answers: dict[str, Any], step: str) -> str:
    previous = journey.previous_step(answers, step, next_step, STEP_FIELDS, "result")
    return reverse("funding_check_step", args=[previous]) if previous else reverse("funding_check")


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
    form_class, title = STEPS[step]
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            kept = journey.answers_after_saving(
                answers, step, form.cleaned_data, next_step, STEP_FIELDS, "result"
            )
            request.session[SESSION_KEY] = kept
            following = next_step(kept)
            if following == "result":
                return redirect("funding_check_result")
            return redirect("funding_check_step", following)
    else:
        form = form_class(initial=answers)
    return render(
        request,
        "question.html",
        {
            "form": form,
            "title": title,
            "caption": "Check your NPQ funding",
            "page_heading": len(form.visible_fields()) > 1 and step != "workplace",
            "back_url": _back(answers, step),
        },
    )


def result(request: HttpRequest) -> HttpResponse:
    answers = _answers(request)
    step = next_step(answers)
    if step != "result":
        return redirect("funding_check_step", step)
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
    rows = []
    for step in route(answers):
        form = STEPS[step][0]()
        for name, field in form.fields.items():
            if name not in answers or (name == "workplace"):
                continue
            value = answers[name]
            if name == "urn":
                institution = Institution.objects.filter(urn=value).first()
                rows.append(("Workplace", str(institution or value), step))
                continue
            choices = dict(getattr(field, "choices", []) or [])
            rows.append((str(field.label), str(choices.get(value, value)), step))
    return rows
