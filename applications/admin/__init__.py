"""Hub decisions in admin: the queue of endorsed applications, accept / waitlist / reject.

By concern: ``application`` (the queue and each application's page, registered here),
``decisions`` (the accept, reject, confirm-the-endorser and ask-again pages) and ``history``
(the read-only endorsement and status history on the page).
"""

from .application import ApplicationAdmin, EndorserAddressFilter
from .decisions import AcceptForm, ApplicationDecisionViews, AskAgainForm, RejectForm, staff_may
from .history import ApplicationHistoryInline, EndorsementInline, TransitionInline

__all__ = [
    "AcceptForm",
    "ApplicationAdmin",
    "ApplicationDecisionViews",
    "ApplicationHistoryInline",
    "AskAgainForm",
    "EndorsementInline",
    "EndorserAddressFilter",
    "RejectForm",
    "TransitionInline",
    "staff_may",
]
