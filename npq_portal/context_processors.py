from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject


def service(request: HttpRequest) -> dict[str, str]:
    """The service name and phase shown in every page's header and phase banner."""
    return {"SERVICE_NAME": settings.SERVICE_NAME, "SERVICE_PHASE": settings.PHASE}


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def is_headteacher(user) -> bool:
    """Someone asked to endorse an application who has no NPQ of their own (and is not staff):
    the portal is, for them, the requests they were sent."""
    from applications.selectors import applications_for_user, endorsements_addressed_to
    from programmes.selectors import enrolments_for_user

    if user.is_staff:
        return False
    return (
        endorsements_addressed_to(user=user).exists()
        and not applications_for_user(user=user).exists()
        and not enrolments_for_user(user=user).exists()
    )


def request_is_headteacher(request: HttpRequest) -> bool:
    """is_headteacher for the signed-in user, worked out once per request."""
    if not hasattr(request, "_npq_is_headteacher"):
        request._npq_is_headteacher = request.user.is_authenticated and is_headteacher(request.user)
    return request._npq_is_headteacher


def navigation_items(request: HttpRequest) -> list[NavItem]:
    """The header links each kind of user needs, the current page's marked active."""
    user = request.user
    if not user.is_authenticated:
        links = [("Sign in", "account_login"), ("Create an account", "account_signup")]
    elif request_is_headteacher(request):
        links = [("Endorsements", "home"), ("Messages", "my_notifications")]
    else:
        links = [("Your NPQs", "home"), ("Calendar", "calendar"), ("Messages", "my_notifications")]
        if user.is_staff:
            links += [("Marking", "marking_list"), ("Hub administration", "admin:index")]
    match = request.resolver_match
    current = match.view_name if match else ""
    return [NavItem(label, reverse(name), name == current) for label, name in links]


def navigation(request: HttpRequest) -> dict[str, object]:
    """``nav_items`` for the header, worked out only on pages that show the header (lazily: the
    admin, which has its own header, makes no extra queries)."""
    return {"nav_items": SimpleLazyObject(lambda: navigation_items(request))}
