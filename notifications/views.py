from allauth.account.models import EmailAddress
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Notification


@login_required
def my_notifications(request: HttpRequest) -> HttpResponse:
    """The reminders and messages the signed-in person was sent."""
    # Messages sent to an address count only while it is one of the user's verified addresses.
    verified = EmailAddress.objects.filter(user=request.user, verified=True).values("email")
    notifications = Notification.objects.filter(
        Q(user=request.user) | Q(user__isnull=True, recipient__in=verified)
    ).order_by("-created_at")[:200]
    return render(request, "notifications/list.html", {"notifications": notifications})
