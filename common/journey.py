"""One-question-per-page journeys: the route is computed from the answers given so far.

A journey is a ``next_step(answers) -> step name | end`` function and the fields each step
saves (its answers and the facts derived from them). Used by the public funding checker and
the application form.

Changing an answer keeps every other answer. The route is replayed from the start over the
answers, so a question the change made necessary (a new NPQ's own questions, the workplace
search for a new work setting) is the first one ``next_step`` finds unanswered, and once it is
answered the journey is complete again (check your answers). Answers of steps that are no
longer on the route are ignored while something is still to be asked (``answers_on_route``)
and dropped once nothing is (so changing back asks again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

NextStep = Callable[[dict[str, Any]], str]
Derive = Callable[[dict[str, Any]], dict[str, Any]]


def route(
    answers: Mapping[str, Any], next_step: NextStep, fields: Mapping[str, Iterable[str]], end: str
) -> list[str]:
    """The steps on the route so far, in order, replaying the answers one step at a time; the
    last is the first question still to be answered (unless every one is)."""
    asked: list[str] = []
    partial: dict[str, Any] = {}
    while (step := next_step(partial)) != end and step not in asked:
        asked.append(step)
        given = {name: answers[name] for name in fields[step] if name in answers}
        if not given:
            break
        partial.update(given)
    return asked


def answers_on_route(
    answers: Mapping[str, Any], next_step: NextStep, fields: Mapping[str, Iterable[str]], end: str
) -> dict[str, Any]:
    """The answers of the steps on the route: what the result and the summary are made from.
    An answer to a question the route no longer asks (a SENCO date after choosing another NPQ,
    a school after choosing another work setting) is left out."""
    on_route = route(answers, next_step, fields, end)
    return {name: answers[name] for step in on_route for name in fields[step] if name in answers}


def answers_after_saving(
    answers: Mapping[str, Any],
    step: str,
    new: Mapping[str, Any],
    next_step: NextStep,
    fields: Mapping[str, Iterable[str]],
    end: str,
    derive: Derive | None = None,
) -> dict[str, Any]:
    """Answers once ``step`` is (re)answered with ``new``.

    The step's own answers are replaced (an empty value removes one) and every other answer is
    kept. ``derive`` then recomputes facts that depend on several answers (the funding
    decision). When nothing is left to ask, answers off the route are dropped."""
    saved = {name: value for name, value in answers.items() if name not in fields[step]}
    saved.update({name: value for name, value in new.items() if value not in (None, "")})
    if derive is not None:
        saved = derive(saved)
    if next_step(saved) == end:
        saved = answers_on_route(saved, next_step, fields, end)
    return saved


def previous_step(
    answers: Mapping[str, Any], step: str, next_step: NextStep, fields: Mapping[str, Iterable[str]], end: str
) -> str | None:
    asked = route(answers, next_step, fields, end)
    if step == end:
        return asked[-1] if asked else None
    if step in asked and asked.index(step) > 0:
        return asked[asked.index(step) - 1]
    return None


def is_complete(answers: Mapping[str, Any], next_step: NextStep, end: str) -> bool:
    """Every question on the route is answered (a change page's back link returns to the check)."""
    return next_step(dict(answers)) == end


def back_link(
    answers: Mapping[str, Any],
    step: str,
    next_step: NextStep,
    fields: Mapping[str, Iterable[str]],
    end: str,
    *,
    end_url: str,
    step_url: Callable[[str], str],
    start_url: str,
) -> str:
    """Where a page's back link goes: back to the end (check your answers, the result) when
    every question is answered, as the page is then a change made from there; otherwise to the
    step before on the route; otherwise (the first question) to the journey's start."""
    if step != end and is_complete(answers, next_step, end):
        return end_url
    previous = previous_step(answers, step, next_step, fields, end)
    return step_url(previous) if previous else start_url


def page_heading(form: Any, *, not_counted: Iterable[str] = ()) -> bool:
    """Whether the page's title is a heading of its own above the questions: when the form asks
    more than one thing or has a checkbox. Otherwise the single question's label is the page's
    heading (GOV.UK's pattern). Fields in ``not_counted`` (a list shown under a search) are not
    counted as questions."""
    fields = [f for f in form.visible_fields() if f.name not in not_counted]
    return len(fields) > 1 or any(
        f.field.widget.input_type == "checkbox" for f in fields if hasattr(f.field.widget, "input_type")
    )
