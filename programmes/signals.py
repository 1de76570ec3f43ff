"""Signals other apps may listen to without programmes depending on them."""

from django.dispatch import Signal

# Sent (after commit) when a participant's withdrawal frees a place on a course: course_id=...
place_freed = Signal()

# Sent INSIDE the transaction that ends someone's work at a hub: user=..., hub_id=... (None:
# everywhere, when the account is deactivated), by=... Receivers do their part in that same
# transaction; an exception in one undoes the whole change (nothing is left half done).
staff_left = Signal()

# Sent INSIDE the transaction that changes a participant's status (deferred, resumed, withdrawn):
# participant=..., status=..., reason=..., by=... (e.g. dfe/ records the change to send to DfE).
participant_status_changed = Signal()
