"""What the schedule says, in words: each kind's period (a hub's own where it has one), and what
goes now and within the next month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ..kinds import KINDS
from ..models import RetentionRule
from .due import due_count
from .schedule import SCHEDULES


@dataclass(frozen=True)
class ScheduleRow:
    kind: str
    label: str
    period: str
    event: str
    action: str
    hub_may_change: bool


def period_words(period: int, unit: str) -> str:
    singular = {"days": "day", "months": "month", "years": "year"}[unit]
    return f"{period} {singular if period == 1 else unit}"


def schedule_rows(*, hub=None) -> list[ScheduleRow]:
    """The schedule as a table: each kind's period (the hub's own where it has one)."""
    rules = {(r.kind, r.hub_id): r for r in RetentionRule.objects.filter(enabled=True)}
    rows = []
    for code, kind in KINDS.items():
        rule = rules.get((code, hub.pk)) if hub is not None else None
        rule = rule or rules.get((code, None))
        period = "Kept until removed by staff" if rule is None else period_words(rule.period, rule.unit)
        rows.append(
            ScheduleRow(
                code,
                kind.label,
                period,
                kind.event,
                kind.action,
                code in SCHEDULES and SCHEDULES[code].hub_path is not None,
            )
        )
    return rows


def retention_report(*, now: datetime | None = None) -> list[tuple[ScheduleRow, int, int]]:
    """Each kind with the records due now and those that will be due within a month."""
    from programmes.services import add_months

    now = now or timezone.now()
    local = timezone.localtime(now)
    month_on = add_months(local.date(), 1)
    later = local.replace(year=month_on.year, month=month_on.month, day=month_on.day)
    rules = list(RetentionRule.objects.all())  # read once: two counts per kind, no lookups
    return [
        (row, due_count(row.kind, now, rules), due_count(row.kind, later, rules)) for row in schedule_rows()
    ]
