"""A NUL byte that reaches PostgreSQL is the request's fault, not the portal's: a 400, not a 500.

Forms refuse NUL next to their field (Django's CharField does), but the admin's list filters
pass their values straight into the query (``?status__exact=%00``), and PostgreSQL refuses any
text holding NUL. Nothing is written by such a request: the statement itself was refused.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class NulByteMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DataError) and "NUL (0x00)" in str(exception):
            return render(request, "400.html", status=400)
        return None
