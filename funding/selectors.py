"""Reads of funding data: scoping for staff and the funding report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

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
    """Per cohort and course: funded, not funded by reason, under review, TSF total in pounds.

    Counted in the database (one grouping by course, one by course and reason), not by reading
    every decision: a hub's report of 20,000 decisions took seconds in Python."""
    from programmes.models import Course

    # Under review: a review still open (a LEFT JOIN to the decision's one review).
    under_review = Case(
        When(
            Q(review_status__isnull=False) & ~Q(review_status=FundingReview.Status.DECISION_MADE), then=True
        ),
        default=False,
        output_field=BooleanField(),
    )
    # What FundingDecision.effective_funded and effective_reason say, as expressions.
    funded = Coalesce("override_funded", "funded")
    reason = Case(
        When(override_funded=True, then=Value("marked_funded_by_policy")),
        When(override_funded=False, then=Value("marked_ineligible_by_policy")),
        default=F("reason"),
        output_field=CharField(),
    )
    counted = (
        decisions.order_by()
        .annotate(review_status=F("review__status"))
        .annotate(under_review=under_review, effective_funded=funded)
    )
    per_course = counted.values("course_id").annotate(
        reviewing=Count("pk", filter=Q(under_review=True)),
        funded_count=Count("pk", filter=Q(under_review=False, effective_funded=True)),
        tsf=Sum("targeted_support_funding_gbp", filter=Q(under_review=False, effective_funded=True)),
    )
    courses = Course.objects.select_related("programme", "cohort").in_bulk(
        [row["course_id"] for row in per_course]
    )
    rows: dict[int, CourseFunding] = {}
    for row in per_course:
        course = courses[row["course_id"]]
        rows[course.pk] = CourseFunding(
            course=course.programme.code,
            cohort=course.cohort.identifier,
            funded_places=course.funded_places,
            funded=row["funded_count"],
            under_review=row["reviewing"],
            targeted_support_gbp=row["tsf"] or 0,
        )
    not_funded = (
        counted.filter(under_review=False, effective_funded=False)
        .annotate(effective_reason=reason)
        .values("course_id", "effective_reason")
        .annotate(n=Count("pk"))
    )
    for row in not_funded:
        rows[row["course_id"]].not_funded_by_reason[row["effective_reason"]] = row["n"]
    _count_places(rows)
    return sorted(rows.values(), key=lambda r: (r.cohort, r.course))


def _count_places(rows: dict[int, CourseFunding]) -> None:
    """Funded places used and places not funded, per course, in one query
    (the same count as applications.funded_places.funded_places_used): the live enrolments, each
    the accepted application's participant, by whether their place was accepted as not funded.
    Read from the enrolments, so that funding needs nothing of applications but the field's name."""
    from programmes.models import Participant

    enrolments = Participant.objects.filter(
        course_id__in=list(rows),
        status__in=Participant.LIVE_STATUSES,
        application__status="accepted",  # applications.models.Application.Status.ACCEPTED
    )
    counts = enrolments.values("course_id").annotate(
        not_funded=Count("pk", filter=Q(application__funded_place=False)),
        used=Count("pk", filter=~Q(application__funded_place=False)),
    )
    for row in counts:
        rows[row["course_id"]].funded_places_used = row["used"]
        rows[row["course_id"]].places_not_funded = row["not_funded"]
