"""The funding review queue, worked as DfE works its own: a case needs review, may wait for
information from the applicant, and ends with a decision made or with the applicant asked to
register again. Every step is a FundingReviewUpdate: the status set, the note, who and when.

DfE's service lets its staff set any of the four statuses at any time (a case can be reopened);
so does the portal, but a change of status needs a note saying why, so the queue's history can
be read without asking anyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User

from .models import FundingReview, FundingReviewUpdate

Status = FundingReview.Status


class ReviewError(ValueError):
    """A review update the rules refuse; the message is shown next to the field at fault."""

    def __init__(self, message: str, field: str = "note"):
        super().__init__(message)
        self.field = field


@transaction.atomic
def funding_review_update(
    *, review: FundingReview, status: str | None, note: str, by: User | None, at: datetime | None = None
) -> FundingReview:
    """Set the review's status (None: keep it) and/or add a note, recording who and when."""
    review = FundingReview.objects.select_for_update().get(pk=review.pk)
    note = note.strip()
    if status is not None and status not in Status.values:
        raise ReviewError("Choose a review status from the list", field="status")
    new_status = status if status is not None and status != review.status else ""
    if not new_status and not note:
        raise ReviewError("Choose a different status or enter a note")
    if new_status and not note:
        raise ReviewError(f"Enter a note saying why the case is now \u201c{Status(new_status).label}\u201d")
    at = at or timezone.now()
    FundingReviewUpdate.objects.create(
        review=review, from_status=review.status, to_status=new_status, note=note, by=by, at=at
    )
    if new_status:
        review.status = new_status
        review.status_changed_at, review.status_changed_by = at, by
        review._history_user = by
        review.save()
    return review


AGE_BANDS = (
    ("week", "Less than a week", timedelta(0), timedelta(days=7)),
    ("2weeks", "1 to 2 weeks", timedelta(days=7), timedelta(days=14)),
    ("4weeks", "2 to 4 weeks", timedelta(days=14), timedelta(days=28)),
    ("older", "More than 4 weeks", timedelta(days=28), None),
)


def reviews_in_queue_for(reviews: QuerySet[FundingReview], band: str, *, now: datetime | None = None):
    """Reviews by how long they have been in the queue (since the decision joined it)."""
    now = now or timezone.now()
    for code, _, at_least, less_than in AGE_BANDS:
        if code == band:
            reviews = reviews.filter(opened_at__lte=now - at_least)
            if less_than is not None:
                reviews = reviews.filter(opened_at__gt=now - less_than)
            return reviews
    return reviews


def age_in_words(since: datetime, *, now: datetime | None = None) -> str:
    days = ((now or timezone.now()) - since).days
    if days < 1:
        return "Less than a day"
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{days // 7} weeks"
