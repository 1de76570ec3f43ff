"""Writes to accounts."""

from __future__ import annotations

from django.db import transaction

from .models import User
from .signals import user_deactivated


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Deactivate ``user`` (they can no longer sign in), in one transaction with everything the
    apps do when someone leaves (``user_deactivated``: their facilitation ends, their unmarked
    scripts go back to the pool, their calendar address stops working)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    user_deactivated.send(sender=User, user=user, by=by)
    return user
