from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Notification


@login_required
def my_notifications(request: HttpRequest) -> HttpResponse:
    """The reminders and messages the signed-in person was sent."""
    notifications = Notification.objects.filter(
        Q(user=request.user) | Q(recipient__iexact=request.user.email)
    ).order_by("-created_at")[:200]
    return render(request, "notifications/list.html", {"notifications": notifications})
