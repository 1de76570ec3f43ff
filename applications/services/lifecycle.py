"""The application state machine: every status change goes through ``transition`` and is recorded."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from programmes.models import Participant

from ..models import Application, Transition
from ..selectors import status_phrase

S = Application.Status

# from -> the statuses it may move to. Anything else is refused.
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN, S.REGISTRATION_EXPIRED},
    S.SUBMITTED: {S.AWAITING_ENDORSEMENT, S.WITHDRAWN},
    # Not endorsed while the link worked (ENDORSEMENT_LINK_DAYS): the application expires.
    S.AWAITING_ENDORSEMENT: {S.ENDORSED, S.ENDORSEMENT_DECLINED, S.WITHDRAWN, S.REGISTRATION_EXPIRED},
    # Staff may ask for the endorsement again (a corrected address) before deciding.
    S.ENDORSED: {S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN, S.AWAITING_ENDORSEMENT},
    S.WAITLISTED: {S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
    S.ENDORSEMENT_DECLINED: set(),
    S.ACCEPTED: set(),
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.REGISTRATION_EXPIRED: set(),
}


class ApplicationError(ValueError):
    """A change the rules refuse; the message is shown to the person who asked for it."""


class EndorsementLinkError(ApplicationError):
    pass


class OutOfTurnReasonNeeded(ApplicationError):
    """Someone is ahead on the waiting list: accepting this one needs a reason (decision 30)."""


class PlaceAlreadyHeld(ApplicationError):
    """The applicant already has a place on this NPQ in this intake (a live enrolment)."""

    def __init__(self, participant: Participant):
        course = participant.course
        super().__init__(
            f"You already have a place on {course.programme.name} starting "
            f"{course.delivery_start:%B %Y} with {course.cohort.hub}, so you cannot apply for it again."
        )
        self.participant = participant


def transition(
    application: Application, to: str, *, by: User | None, note: str = "", at: datetime | None = None
) -> Application:
    """Move ``application`` to ``to`` if the state machine allows it, recording who and when."""
    if to not in TRANSITIONS[application.status]:
        raise ApplicationError(
            f"An application that {status_phrase(application.status)} cannot become "
            f"“{Application.Status(to).label}”."
        )
    at = at or timezone.now()
    Transition.objects.create(
        application=application, from_status=application.status, to_status=to, by=by, at=at, note=note
    )
    application.status = to
    application.save(
        update_fields=["status", "waitlist_position", "decision_reason", "participant", "submitted_at"]
    )
    return application


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("course__programme", "cohort", "user")
        .get(pk=application.pk)
    )
