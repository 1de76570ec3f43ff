from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from programmes.selectors import enrolments_for_user, programme_catalogue


def home(request: HttpRequest) -> HttpResponse:
    """Start page: what the portal offers, and for a signed-in user, their NPQs."""
    enrolments = enrolments_for_user(user=request.user) if request.user.is_authenticated else []
    return render(
        request,
        "home.html",
        {"programmes": programme_catalogue(), "enrolments": enrolments},
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
