"""When a declaration is earned (the rules per lead provider, as data; the schedule's milestones)
and the evidence for it: gathered from what the portal holds, frozen when the declaration is
made, and checkable by its content hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from engagement.models import Activity, Attendance, EngagementTally, MentorCheckin
from engagement.tally import DONE
from programmes.models import Participant

from ..models import DfeApplication, EarningRule, Evidence, Schedule

DEFAULT_RETAINED_THRESHOLD = Decimal("90")


# --- schedules and rules ------------------------------------------------------------------------


def schedule_of(dfe_app: DfeApplication) -> Schedule | None:
    return (
        Schedule.objects.filter(dfe_cohort=dfe_app.cohort, identifier=dfe_app.schedule_identifier)
        .prefetch_related("milestones")
        .first()
    )


def thresholds(lead_provider_id: int) -> dict[str, Decimal]:
    """The engagement at or above which each retained declaration is earned (the default unless
    the lead provider has set its own)."""
    found = {
        "retained-1": DEFAULT_RETAINED_THRESHOLD,
        "retained-2": DEFAULT_RETAINED_THRESHOLD,
    }
    for rule in EarningRule.objects.filter(lead_provider_id=lead_provider_id):
        found[rule.declaration_type] = rule.engagement_threshold
    return found


# --- evidence -----------------------------------------------------------------------------------


def canonical(content: dict) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content).encode()).hexdigest()


@dataclass
class Gathered:
    met: bool
    content: dict


def _required_activities(participant: Participant):
    return (
        Activity.objects.filter(course_id=participant.course_id, required=True)
        .filter(Q(group__isnull=True) | Q(group_id=participant.group_id))
        .order_by("starts_at", "due_on", "pk")
    )


def _released_outcome(participant: Participant):
    from assessment.models import Outcome

    return (
        Outcome.objects.filter(
            entry__participant=participant, entry__window__results_released_at__isnull=False
        )
        .order_by("-decided_at")
        .first()
    )


def gather_evidence(participant: Participant, declaration_type: str, *, lead_provider_id: int) -> Gathered:
    """What the portal holds for this declaration now, and whether it meets the rule."""
    activities = list(_required_activities(participant))
    marks = {
        m.activity_id: m for m in Attendance.objects.filter(participant=participant, activity__in=activities)
    }
    tally = EngagementTally.objects.filter(participant=participant).first()
    checkins = MentorCheckin.objects.filter(participant=participant, confirmed_at__isnull=False)
    content: dict = {
        "participant": participant.pk,
        "course": participant.course_id,
        "declaration_type": declaration_type,
        "tally": None
        if tally is None
        else {
            "percent": str(tally.percent) if tally.percent is not None else None,
            "done_weight": str(tally.done_weight),
            "due_weight": str(tally.due_weight),
            "awaiting_weight": str(tally.awaiting_weight),
            "computed_at": tally.computed_at.isoformat(),
        },
        "marks": [
            {
                "activity": a.code,
                "title": a.title,
                "on": a.when.isoformat() if a.when else None,
                "status": marks[a.pk].status,
                "recorded_at": marks[a.pk].recorded_at.isoformat(),
                "lms_completed_at": marks[a.pk].completed_at.isoformat()
                if marks[a.pk].completed_at
                else None,
            }
            for a in activities
            if a.pk in marks
        ],
        "checkins": [
            {
                "held_on": c.held_on.isoformat(),
                "mentor": c.mentor_name,
                "confirmed_at": c.confirmed_at.isoformat(),
            }
            for c in checkins
        ],
    }
    if declaration_type == "started":
        first = activities[0] if activities else None
        met = first is not None and first.pk in marks and marks[first.pk].status in DONE
        content["rule"] = "Attended the first required activity" + (f" ({first.title})." if first else ".")
    elif declaration_type in ("retained-1", "retained-2"):
        threshold = thresholds(lead_provider_id)[declaration_type]
        percent = tally.percent if tally is not None else None
        met = percent is not None and percent >= threshold
        content["rule"] = f"Engagement of {threshold}% or more of what was due."
    else:
        outcome = _released_outcome(participant)
        met = outcome is not None
        content["rule"] = "An assessment outcome released."
        content["outcome"] = (
            None
            if outcome is None
            else {"result": outcome.result, "decided_at": outcome.decided_at.isoformat()}
        )
    content["met"] = met
    return Gathered(met=met, content=content)


def freeze_evidence(
    participant: Participant, declaration_type: str, *, lead_provider_id: int, by: User | None, replaces=None
) -> Evidence:
    gathered = gather_evidence(participant, declaration_type, lead_provider_id=lead_provider_id)
    return Evidence.objects.create(
        participant=participant,
        declaration_type=declaration_type,
        content=gathered.content,
        content_hash=content_hash(gathered.content),
        met=gathered.met,
        made_at=timezone.now(),
        made_by=by if by is not None and by.pk else None,
        replaces=replaces,
    )


def evidence_intact(evidence: Evidence) -> bool:
    """The content still hashes to what was recorded when it was frozen."""
    return content_hash(evidence.content) == evidence.content_hash


def due_on(schedule: Schedule, declaration_type: str) -> date | None:
    for milestone in schedule.milestones.all():
        if milestone.declaration_type == declaration_type:
            return milestone.milestone_date
    return None
