"""The account's personal data (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import register

from .models import User


def _export_user(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
    }


register(
    User,
    "Account",
    subject=lambda user: Q(pk=user.pk),
    fields=("email", "full_name"),
    keep="The account itself stays, without a name or usable address and unable to sign in, so "
    "that the records kept below still count once.",
    export=_export_user,
    replacements={"is_active": False, "password": "!erased", "last_login": None},
)
