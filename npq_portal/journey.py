"""One-question-per-page journeys: the route is computed from the answers given so far.

A journey is a ``next_step(answers) -> step name | "result"`` function and the fields each
step asks. Used by the public funding checker and the application form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

NextStep = Callable[[dict[str, Any]], str]


def route(
    answers: Mapping[str, Any], next_step: NextStep, fields: Mapping[str, Iterable[str]], end: str
) -> list[str]:
    """The steps asked so far, in order, replaying the answers one step at a time."""
    asked: list[str] = []
    partial: dict[str, Any] = {}
    while (step := next_step(partial)) != end and step not in asked:
        asked.append(step)
        given = {name: answers[name] for name in fields[step] if name in answers}
        if not given:
            break
        partial.update(given)
    return asked


def answers_after_saving(
    answers: Mapping[str, Any],
    step: str,
    new: Mapping[str, Any],
    next_step: NextStep,
    fields: Mapping[str, Iterable[str]],
    end: str,
) -> dict[str, Any]:
    """Answers once ``step`` is (re)answered: later answers may no longer apply, so they go."""
    asked = route(answers, next_step, fields, end)
    earlier = asked[: asked.index(step)] if step in asked else asked
    kept = {name: answers[name] for s in earlier for name in fields[s] if name in answers}
    kept.update({name: value for name, value in new.items() if value not in (None, "")})
    return kept


def previous_step(
    answers: Mapping[str, Any], step: str, next_step: NextStep, fields: Mapping[str, Iterable[str]], end: str
) -> str | None:
    asked = route(answers, next_step, fields, end)
    if step == end:
        return asked[-1] if asked else None
    if step in asked and asked.index(step) > 0:
        return asked[asked.index(step) - 1]
    return None
