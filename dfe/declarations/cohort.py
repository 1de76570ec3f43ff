"""Where a cohort's declarations stand (the staff page): each participant and declaration type,
ready, at risk, missed or declared; and the chart of them against the milestones, with the money
at stake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from engagement.models import Activity, Attendance
from engagement.tally import DONE
from programmes.models import Participant

from ..models import (
    DECLARATION_TYPES as DECLARATION_TYPE_ORDER,
)
from ..models import Declaration, DfeApplication, Schedule
from .evidence import thresholds

# --- where a cohort's declarations stand (the staff page) ---------------------------------------

TYPE_WORDS = dict(Declaration._meta.get_field("declaration_type").choices)
AT_RISK_DAYS = 42  # six weeks before a milestone, a participant short of the rule is at risk


@dataclass
class Standing:
    """One participant and one declaration type: what the portal holds and what to do."""

    participant: Participant
    dfe_application: DfeApplication
    declaration_type: str
    milestone_date: date | None
    met: bool
    engagement: Decimal | None
    declaration: Declaration | None

    @property
    def type_words(self) -> str:
        return TYPE_WORDS.get(self.declaration_type, self.declaration_type)

    @property
    def state(self) -> str:
        """ready, at_risk, missed, not_yet, declared"""
        if self.declaration is not None and self.declaration.state not in Declaration.SPENT_STATES:
            return "declared"
        if self.met:
            return "ready"
        if self.milestone_date is None:
            return "not_yet"
        today = timezone.localdate()
        if self.milestone_date < today:
            return "missed"
        if (self.milestone_date - today).days <= AT_RISK_DAYS:
            return "at_risk"
        return "not_yet"

    @property
    def words(self) -> str:
        if self.state == "declared":
            return f"Declared: {self.declaration.get_state_display().lower()}"
        return {
            "ready": "Ready to declare",
            "at_risk": "At risk before the milestone",
            "missed": "Milestone passed without the evidence",
            "not_yet": "Not earned yet",
        }[self.state]


def cohort_standing(
    *, course_ids: list[int], lead_provider_id: int, unscheduled: list | None = None
) -> list[Standing]:
    """Every accepted participant of these courses, per declaration type their schedule allows:
    the evidence met or not, the milestone, the declaration made. A fixed number of queries."""
    from assessment.models import Outcome

    dfe_apps = {
        a.application.participant_id: a
        for a in DfeApplication.objects.filter(
            application__participant__course_id__in=course_ids, status=DfeApplication.Status.ACCEPTED
        ).select_related("application")
        if a.application.participant_id
    }
    participants = list(
        Participant.objects.filter(pk__in=dfe_apps)
        .select_related("user", "course", "tally")
        .order_by("user__email")
    )
    schedules = {
        (s.dfe_cohort, s.identifier): s
        for s in Schedule.objects.filter(
            dfe_cohort__in={a.cohort for a in dfe_apps.values()},
            identifier__in={a.schedule_identifier for a in dfe_apps.values()},
        ).prefetch_related("milestones")
    }
    # started: the first required activity of each course (the course's, or the participant's group's)
    activities = list(
        Activity.objects.filter(course_id__in=course_ids, required=True).order_by("starts_at", "due_on", "pk")
    )
    done_marks = set(
        Attendance.objects.filter(
            participant__in=participants, activity__in=activities, status__in=DONE
        ).values_list("participant_id", "activity_id")
    )
    released = set(
        Outcome.objects.filter(
            entry__participant__in=participants, entry__window__results_released_at__isnull=False
        ).values_list("entry__participant_id", flat=True)
    )
    declarations: dict[tuple[int, str], Declaration] = {}
    for d in Declaration.objects.filter(dfe_application__in=dfe_apps.values()).order_by("created_at", "pk"):
        declarations[(d.dfe_application_id, d.declaration_type)] = d  # the latest of each type
    limits = thresholds(lead_provider_id)
    rows: list[Standing] = []
    for p in participants:
        dfe_app = dfe_apps[p.pk]
        schedule = schedules.get((dfe_app.cohort, dfe_app.schedule_identifier))
        if schedule is None:
            if unscheduled is not None:  # told on the page: staff add the schedule in admin
                unscheduled.append((p, dfe_app))
            continue
        tally = getattr(p, "tally", None)
        percent = tally.percent if tally is not None else None
        first = next(
            (a for a in activities if a.course_id == p.course_id and a.group_id in (None, p.group_id)), None
        )
        for milestone in schedule.milestones.all():
            kind = milestone.declaration_type
            if kind == "started":
                met = first is not None and (p.pk, first.pk) in done_marks
            elif kind == "completed":
                met = p.pk in released
            else:
                met = percent is not None and percent >= limits[kind]
            rows.append(
                Standing(
                    participant=p,
                    dfe_application=dfe_app,
                    declaration_type=kind,
                    milestone_date=milestone.milestone_date,
                    met=met,
                    engagement=percent,
                    declaration=declarations.get((dfe_app.pk, kind)),
                )
            )
    return rows


# --- the chart: declarations by type and state against the milestones, and the money at stake ---

CHART_STATES = (
    ("declared", "Declared"),
    ("ready", "Ready to declare"),
    ("at_risk", "At risk"),
    ("missed", "Milestone passed without evidence"),
    ("not_yet", "Not earned yet"),
)
PAID_OR_PAYABLE = ("eligible", "payable", "paid")  # submitted: DfE does not fund it


@dataclass
class ChartRow:
    declaration_type: str
    milestone_date: date | None
    counts: dict[str, int]
    declared_money: Decimal | None
    at_stake_money: Decimal | None  # ready, at risk or not yet earned: what declaring would bring

    @property
    def type_words(self) -> str:
        return TYPE_WORDS.get(self.declaration_type, self.declaration_type)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def bars(self, width: int = 300) -> list[tuple[str, str, int, int]]:
        """(state, words, x, width) of each segment of the bar, in pixels."""
        total = self.total or 1
        x, out = 0, []
        for key, words in CHART_STATES:
            w = round(width * self.counts.get(key, 0) / total)
            if w:
                out.append((key, words, x, w))
                x += w
        return out


def cohort_chart(rows: list[Standing]) -> list[ChartRow]:
    """Per declaration type: how many stand where, the milestone, the money declared (DfE's
    price x output share, data) and the money still to earn. Money is None without prices."""
    from ..models import OutputPrice

    prices = {
        (p.dfe_cohort, p.course_identifier, p.declaration_type): p.amount
        for p in OutputPrice.objects.filter(dfe_cohort__in={r.dfe_application.cohort for r in rows})
    }
    chart: dict[str, ChartRow] = {}
    for row in rows:
        entry = chart.setdefault(
            row.declaration_type,
            ChartRow(row.declaration_type, row.milestone_date, {k: 0 for k, _ in CHART_STATES}, None, None),
        )
        entry.counts[row.state] += 1
        price = prices.get(
            (row.dfe_application.cohort, row.dfe_application.course_identifier, row.declaration_type)
        )
        if price is None:
            continue
        if row.state == "declared" and row.declaration.state in PAID_OR_PAYABLE:
            entry.declared_money = (entry.declared_money or Decimal(0)) + price
        elif row.state in ("ready", "at_risk", "not_yet"):
            entry.at_stake_money = (entry.at_stake_money or Decimal(0)) + price
    order = [t for t, _ in DECLARATION_TYPE_ORDER]
    return sorted(chart.values(), key=lambda c: order.index(c.declaration_type))
