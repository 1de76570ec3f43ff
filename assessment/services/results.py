"""Results: the final mark of a script, and every result of a window released together."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..models import AssessmentWindow, Entry, Outcome
from .entries import AssessmentError
from .submissions import latest_submission


def final_result(entry: Entry) -> str | None:
    marks = {a.role: a for a in entry.marking.all()}
    lead, moderation, first = (marks.get(r) for r in ("lead", "moderation", "first"))
    if lead is not None:
        return lead.result or None
    if moderation is not None:
        if not moderation.result:
            return None
        return moderation.result if moderation.result == first.result else None
    return first.result if first and first.result else None


@transaction.atomic
def results_release(*, window: AssessmentWindow, by: User, now: datetime | None = None) -> int:
    """Release every result of the window together; refused while any is undecided."""
    now = now or timezone.now()
    window = AssessmentWindow.objects.select_for_update().get(pk=window.pk)
    if window.results_released_at:
        raise AssessmentError("The results of this window have already been released.")
    if now <= window.closes_at:
        raise AssessmentError("Results are released after the window closes.")
    outcomes = []
    for entry in window.entries.filter(
        access__in=[Entry.Access.ENGAGEMENT, Entry.Access.GRANTED]
    ).prefetch_related("marking"):
        if latest_submission(entry) is None:
            if entry.closes_at >= now:
                raise AssessmentError(f"{entry.participant.user} has an extension that has not ended.")
            outcomes.append(
                Outcome(
                    entry=entry,
                    result=Outcome.Result.FAILED,
                    feedback="No response was submitted.",
                    decided_at=now,
                )
            )
            continue
        result = final_result(entry)
        if result is None:
            raise AssessmentError(f"{entry.participant.user}'s script has no final mark yet.")
        feedback = next(
            a.feedback
            for role in ("lead", "moderation", "first")
            for a in entry.marking.all()
            if a.role == role
        )
        outcomes.append(
            Outcome(
                entry=entry,
                result=Outcome.Result.PASSED if result == "pass" else Outcome.Result.FAILED,
                feedback=feedback,
                decided_at=now,
            )
        )
    Outcome.objects.bulk_create(outcomes)
    window.results_released_at = now
    window.save(update_fields=["results_released_at"])
    for outcome in outcomes:
        transaction.on_commit(lambda outcome=outcome: _result_email(outcome))
    return len(outcomes)


def _result_email(outcome: Outcome) -> None:
    from notifications.services import notify

    participant = outcome.entry.participant
    notify(
        kind="assessment_result",
        recipient=participant.user.email,
        user=participant.user,
        about=outcome,
        occurrence="released",
        title="Your NPQ assessment result",
        template="assessment_result",
        context={"outcome": outcome, "participant": participant},
        link=settings.SITE_URL + f"/enrolments/{participant.pk}/assessment",
    )


def marking_overdue(window: AssessmentWindow, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return window.results_released_at is None and today > window.marking_due_on
