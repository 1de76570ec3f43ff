"""Personal data of Django's, allauth's and the privacy app's own models."""

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.contrib.sites.models import Site
from django.db.models import Q

from common.personal_data import ERASE_DELETE, ERASE_KEEP, not_personal, register

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
    # Entries *about* a person's rows are anonymised by erasure (privacy/services.py); the staff
    # member who made an entry is kept, as the account it points at.
    subject=None,
    actors=("user",),
    not_personal={"change_message": "Which fields changed; anonymised with the entry's row."},
)


def _privacy_models() -> None:
    from .models import AccessLogEntry, ErasureRecord, SubjectAccessExport

    register(
        SubjectAccessExport,
        "Copies of your data",
        hub_path="hub",
        subject=lambda user: Q(person=user),
        fields=("file",),
        actors=("requested_by",),
        erase=ERASE_DELETE,
        # The copies themselves are not copied again: when and by whom they were asked for.
        export=lambda row: {
            "asked_for_at": row.created_at.isoformat(),
            "status": row.get_status_display(),
            "records": row.records,
        },
    )
    register(
        AccessLogEntry,
        "Who viewed your data",
        hub_path="hub",
        subject=lambda user: Q(person=user),
        actors=("by",),
        erase=ERASE_KEEP,
        keep="The access log stays (who looked, what, when), pointing at the anonymised account, "
        "until the retention schedule removes it.",
        export=lambda row: {
            "at": row.at.isoformat(),
            "by": row.by.get_full_name() if row.by_id else None,
            "action": row.get_action_display(),
            "what": row.what,
        },
    )
    register(ErasureRecord, "Erasures", actors=("erased_by",))


_privacy_models()
