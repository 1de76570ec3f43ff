"""Reads of funding data: scoping for staff and the funding report."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

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

    @property
    def not_funded(self) -> int:
        return sum(self.not_funded_by_reason.values())


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
                course=decision.course.programme.code, cohort=decision.course.cohort.identifier
            )
        row = rows[decision.course_id]
        if decision.pk in open_reviews:
            row.under_review += 1
        elif decision.effective_funded:
            row.funded += 1
            row.targeted_support_gbp += decision.effective_targeted_support_gbp
        else:
            row.not_funded_by_reason[decision.effective_reason] += 1
    return sorted(rows.values(), key=lambda r: (r.cohort, r.course))
