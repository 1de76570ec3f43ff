"""The public "check your funding" pages: no sign-in, answers kept in the session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from programmes.models import Programme

from .checker import STEPS, facts_from_answers, next_step, route
from .eligibility import decide, parse_facts
from .models import FundingRound, Institution

SESSION_KEY = "funding_check"


def checker_round() -> FundingRound:
    return FundingRound.objects.get(code=settings.FUNDING_CHECK_ROUND)


def _answers(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY, {}))


def _back(answers: dict[str, Any], step: str) -> str:
    asked = route(answers)
    if step in asked and asked.index(step) > 0:
        return reverse("funding_check_step", args=[asked[asked.index(step) - 1]])
    if step == "result" and asked:
        return reverse("funding_check_step", args=[asked[-1]])
    return reverse("funding_check")


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
            # Answers to questions after this one may no longer apply: keep only earlier ones.
            asked = route(answers)
            earlier = asked[: asked.index(step)] if step in asked else asked
            kept = {n: answers[n] for s in earlier for n in STEPS[s][0].base_fields if n in answers}
            kept.update({name: value for name, value in form.cleaned_data.items() if value not in (None, "")})
            request.session[SESSION_KEY] = kept
            following = next_step(kept)
            if following == "result":
                return redirect("funding_check_result")
            return redirect("funding_check_step", following)
    else:
        form = form_class(initial=answers)
    return render(
        request, "funding/question.html", {"form": form, "title": title, "back_url": _back(answers, step)}
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
