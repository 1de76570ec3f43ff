"""What an import run reports: its counts, the rows it skipped and why, its progress as it
reads a file, and all of that in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import pluralize
from django.utils import timezone

from ..models import ImportRun

PROGRESS_EVERY = 5000  # rows between heartbeats while a file is checked
PROBLEMS_KEPT = 1000  # skipped rows listed on a run (all are counted)

Data = bytes | Path | FieldFile


class BadRow(ValueError):
    """One row cannot be read: it is skipped and reported with its line number."""


@dataclass
class Outcome:
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # the first PROBLEMS_KEPT
    changes: dict = field(default_factory=dict)
    kind: str = ""  # the eligibility list loaded (its file's header may have said which)

    def skip(self, line: int, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append((line, message))


class _Progress:
    """Rows checked so far and a heartbeat, committed on the run every PROGRESS_EVERY rows."""

    def __init__(self, run: ImportRun | None):
        self.run = run

    def __call__(self, rows: int, *, force: bool = False, **values) -> None:
        if self.run is not None and (force or rows % PROGRESS_EVERY == 0):
            ImportRun.objects.filter(pk=self.run.pk).update(
                rows_done=rows, heartbeat_at=timezone.now(), **values
            )


def summary(outcome: Outcome) -> str:
    text = (
        f"{outcome.rows_total} row{pluralize(outcome.rows_total)} read: {outcome.created} added, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged"
    )
    if outcome.removed:
        text += f", {outcome.removed} removed"
    if outcome.skipped:
        text += f"; {outcome.skipped} row{pluralize(outcome.skipped)} skipped"
    return text + "."
