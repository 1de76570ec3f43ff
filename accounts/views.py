from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def admin_login(request: HttpRequest) -> HttpResponse:
    """Hub administration has no sign-in page of its own: everyone signs in through the portal
    (allauth's rate limits, email verification and two-factor step), then comes back."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    next_url = next_url or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect_to_login(next_url, login_url=reverse("account_login"))
    if request.user.is_active and request.user.is_staff:
        return redirect(next_url)
    return render(request, "accounts/no_admin_access.html", status=403)
