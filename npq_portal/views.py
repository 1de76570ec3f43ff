from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from applications.selectors import applications_for_user, endorser_requests
from programmes.selectors import enrolments_for_user, programme_catalogue

from . import health
from .context_processors import request_is_headteacher


def home(request: HttpRequest) -> HttpResponse:
    """Start page: what the portal offers; for a signed-in user, their NPQs and any requests to
    endorse an application (a headteacher with no NPQ of their own sees only those)."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html", {"programmes": programme_catalogue()})
    return render(
        request,
        "home.html",
        {
            "programmes": programme_catalogue(),
            "headteacher": request_is_headteacher(request),
            "enrolments": enrolments_for_user(user=user),
            "applications": applications_for_user(user=user),
            "endorsements": endorser_requests(user=user),
        },
    )


# What each check's failure means to a person using the portal (no error details, no JSON).
STATUS_PROBLEMS = {
    "database": "Pages may not load, and you may not be able to sign in or save your answers.",
    "broker": "Emails and reminders may be late. Anything you save is kept, and is sent once the delay is over.",
}


@never_cache
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """Service status in words, for people (machines read /healthz)."""
    checks = {"database": health.database_status(), "broker": health.broker_status()}
    problems = [STATUS_PROBLEMS[name] for name, result in checks.items() if result not in {"ok", "eager"}]
    context: dict[str, object] = {"problems": problems}
    if checks["database"] != "ok":
        # The session and its messages live in the database: show the page without them.
        context.update(user=AnonymousUser(), messages=[], nav_items=[])
    # 200 either way: this is a page for people; a proxy must not swap it for its own error page.
    return render(request, "status.html", context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
