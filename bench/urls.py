"""The portal's URLs plus the page benchmark's baseline (only in bench.settings, never served
by the portal itself)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from npq_portal.urls import handler404, handler500
from npq_portal.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


@login_required
def signed_in(request: HttpRequest) -> HttpResponse:
    """The least a signed-in page costs: every middleware, the session and its user, no more."""
    return HttpResponse(f"Signed in as {request.user.email}", content_type="text/plain")


urlpatterns = [path("bench/signed-in", signed_in, name="bench_signed_in"), *portal_urlpatterns]
