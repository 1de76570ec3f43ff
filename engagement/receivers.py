"""What engagement does when something happens in programmes (programmes never imports engagement)."""

from __future__ import annotations

from typing import Any

from accounts.models import User

from .models import CalendarFeed


def calendar_feed_stop(*, user: User, **_: Any) -> None:
    """A deactivated account's calendar address stops working (in the deactivation's transaction)."""
    CalendarFeed.objects.filter(user=user).delete()
