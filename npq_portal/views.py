from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from applications.selectors import applications_for_user
from programmes.selectors import enrolments_for_user, programme_catalogue


def home(request: HttpRequest) -> HttpResponse:
    """Start page: what the portal offers, and for a signed-in user, their NPQs."""
    signed_in = request.user.is_authenticated
    return render(
        request,
        "home.html",
        {
            "programmes": programme_catalogue(),
            "enrolments": enrolments_for_user(user=request.user) if signed_in else [],
            "applications": applications_for_user(user=request.user) if signed_in else [],
        },
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
