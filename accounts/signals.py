"""Signals other apps may listen to without accounts depending on them."""

from django.dispatch import Signal

# Sent INSIDE the transaction that deactivates an account: user=..., by=... Receivers do their
# part in that same transaction (programmes ends the person's facilitation and staff access,
# engagement stops their calendar address); an exception in one undoes the whole change.
user_deactivated = Signal()
