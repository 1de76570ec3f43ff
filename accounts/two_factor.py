"""Who must use two-factor authentication, and whether they have set it up."""

from allauth.mfa.models import Authenticator

from .models import User


def two_factor_required(user: User) -> bool:
    """Every staff and superuser account: they can read other people's personal data."""
    return user.is_active and (user.is_staff or user.is_superuser)


def two_factor_enabled(user: User) -> bool:
    """An authenticator app is set up (recovery codes alone are a fallback, not a factor)."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
