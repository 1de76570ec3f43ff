"""Reads of funding data: scoping for staff and the funding report."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from programmes.selectors import register_scope

from .models import FundingDecision, FundingReview

# Hub administrators see the decisions of their hub's courses; facilitators see none.
register_scope(FundingDecision, hub_path="course__cohort__hub")
register_scope(FundingReview, hub_path="decision__course__cohort__hub")


@dataclass
class CourseFunding:
    course: str
    cohort: str
    funded: int = 0
    under_review: int = 0
    not_funded_by_reason: Counter = field(default_factory=Counter)
    targeted_support_gbp: int = 0
    funded_places: int = 0  # the course's cap
    funded_places_used: int = 0  # accepted places still on the course, except those not funded
    places_not_funded: int = 0  # accepted places paid by the school or the participant

    @property
    def not_funded(self) -> int:
        return sum(self.not_funded_by_reason.values())

    @property
    def funded_places_available(self) -> int:
        return max(self.funded_places - self.funded_places_used, 0)


def funding_report(decisions: QuerySet[FundingDecision]) -> list[CourseFunding]:
    """Per cohort and course: funded, not funded by reason, under review, TSF total in pounds."""
    rows: dict[int, CourseFunding] = {}
    open_reviews = set(
        FundingReview.objects.filter(decision__in=decisions)
        .exclude(status=FundingReview.Status.DECISION_MADE)
        .values_list("decision_id", flat=True)
    )
    by_course: dict[int, list[FundingDecision]] = defaultdict(list)
    for decision in decisions.select_related("course__programme", "course__cohort"):
        by_course[decision.course_id].append(decision)
        if decision.course_id not in rows:
            rows[decision.course_id] = CourseFunding(
                course=decision.course.programme.code,
                cohort=decision.course.cohort.identifier,
                funded_places=decision.course.funded_places,
            )
        row = rows[decision.course_id]
        if decision.pk in open_reviews:
            row.under_review += 1
        elif decision.effective_funded:
            row.funded += 1
            row.targeted_support_gbp += decision.effective_targeted_support_gbp
        else:
            row.not_funded_by_reason[decision.effective_reason] += 1
    _count_places(rows)
    return sorted(rows.values(), key=lambda r: (r.cohort, r.course))


def _count_places(rows: dict[int, CourseFunding]) -> None:
    """Funded places used and places not funded, per course, in one query
    (the same count as applications.funded_places.funded_places_used)."""
    from applications.models import Application
    from programmes.models import Participant

    accepted = Application.objects.filter(
        course_id__in=list(rows),
        status=Application.Status.ACCEPTED,
        participant__status__in=Participant.LIVE_STATUSES,
    )
    counts = accepted.values("course_id").annotate(
        not_funded=Count("pk", filter=Q(funded_place=False)), used=Count("pk", filter=~Q(funded_place=False))
    )
    for row in counts:
        rows[row["course_id"]].funded_places_used = row["used"]
        rows[row["course_id"]].places_not_funded = row["not_funded"]
