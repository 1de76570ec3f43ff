"""Personal data of Django's, allauth's and the privacy app's own models."""

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.contrib.sites.models import Site
from django.db.models import Q

from .registry import ERASE_DELETE, not_personal, register

not_personal(Group, "Role groups: names of roles, not of people.")
not_personal(Permission, "Names of permissions.")
not_personal(Site, "The portal's own domain and name.")

register(
    EmailAddress,
    "Email addresses of the account",
    subject=lambda user: Q(user=user),
    fields=("email",),
    erase=ERASE_DELETE,
)
register(
    EmailConfirmation,
    "Email address confirmations",
    subject=lambda user: Q(email_address__user=user),
    erase=ERASE_DELETE,
    export=lambda row: {"id": row.pk, "created": row.created.isoformat(), "sent": bool(row.sent)},
)
register(
    Authenticator,
    "Two-factor authentication",
    subject=lambda user: Q(user=user),
    erase=ERASE_DELETE,
    # The secret itself is never exported: the kind of authenticator and when it was used.
    export=lambda row: {
        "type": row.get_type_display(),
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    },
)
register(
    Session,
    "Sign-in sessions",
    # A session cannot be found by its user without decoding every one. Erasure makes the
    # password unusable, which ends the person's sessions (Django checks the password's hash on
    # every request); expired ones are deleted by the retention schedule.
    subject=None,
    not_personal={"session_data": "Sign-in state only; never exported."},
)
register(
    LogEntry,
    "Admin change log",
    # Entries *about* a person's rows are anonymised by erasure (privacy/erasure.py); the staff
    # member who made an entry is kept, as the account it points at.
    subject=None,
    actors=("user",),
    not_personal={"change_message": "Which fields changed; anonymised with the entry's row."},
)
