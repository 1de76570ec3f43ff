"""Response headers that every page of the portal carries (after WhiteNoise: static files are
served before this runs and keep their long cache lifetimes)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response, and no caching of any page the portal renders.

    Nearly every dynamic page shows somebody's personal data (applications, engagement, scripts,
    marking, endorsement links, calendar feeds), and the few public ones (the funding checker)
    echo the visitor's answers: no browser, proxy or shared computer may keep a copy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if not request.path.startswith(settings.STATIC_URL):
            patch_cache_control(response, no_store=True, private=True)
        return response
