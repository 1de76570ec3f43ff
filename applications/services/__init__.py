"""Application lifecycle: every status change goes through ``transition`` and is recorded.

By concern: ``lifecycle`` (the state machine and its refusals), ``drafts`` (start, answer,
submit, withdraw, expire), ``endorsement`` (the endorser's link and answer, staff checks, the
change of employer) and ``decisions`` (accept, waiting list, reject, offering freed places,
with the one lock order). Callers import from here.
"""

from .decisions import (
    accept_needs_out_of_turn_reason,
    application_accept,
    application_reject,
    application_waitlist,
    first_in_line,
    places_taken,
    waiting_lists_offer,
    waitlist_offer_places,
)
from .drafts import (
    REQUIRED_ANSWERS,
    application_save_answers,
    application_start,
    application_submit,
    application_withdraw,
    applications_expire_stale,
    registration_deadline,
)
from .endorsement import (
    ASK_AGAIN_STATUSES,
    REPLACED_LINK,
    employment_change_request,
    employment_confirm,
    endorsement_answer,
    endorsement_decide,
    endorsement_domain_confirm,
    endorsement_for_token,
    endorsement_request,
    endorsement_request_again,
    may_endorse,
)
from .lifecycle import (
    TRANSITIONS,
    ApplicationError,
    EndorsementLinkError,
    OutOfTurnReasonNeeded,
    PlaceAlreadyHeld,
    transition,
)

__all__ = [
    "ASK_AGAIN_STATUSES",
    "REPLACED_LINK",
    "REQUIRED_ANSWERS",
    "TRANSITIONS",
    "ApplicationError",
    "EndorsementLinkError",
    "OutOfTurnReasonNeeded",
    "PlaceAlreadyHeld",
    "accept_needs_out_of_turn_reason",
    "application_accept",
    "application_reject",
    "application_save_answers",
    "application_start",
    "application_submit",
    "application_waitlist",
    "application_withdraw",
    "applications_expire_stale",
    "employment_change_request",
    "employment_confirm",
    "endorsement_answer",
    "endorsement_decide",
    "endorsement_domain_confirm",
    "endorsement_for_token",
    "endorsement_request",
    "endorsement_request_again",
    "first_in_line",
    "may_endorse",
    "places_taken",
    "registration_deadline",
    "transition",
    "waiting_lists_offer",
    "waitlist_offer_places",
]
