"""Staff set up two-factor authentication before any staff page opens."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .two_factor import two_factor_enabled, two_factor_required


class StaffTwoFactorMiddleware:
    """Sends a staff member or superuser without an authenticator app to set one up.

    It guards the staff areas (hub administration and marking) by path, so that a page added to
    either later is covered too. Once an authenticator exists, allauth asks for its code at every
    sign-in, so a session of such an account was opened with two factors.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and request.path.startswith(self._staff_prefixes())
            and two_factor_required(user)
            and not two_factor_enabled(user)
        ):
            messages.info(
                request,
                "Set up two-factor authentication before you use hub administration or marking. "
                "You need an authenticator app on your phone or computer.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _staff_prefixes() -> tuple[str, ...]:
        return (reverse("admin:index"), reverse("marking_list"))
