"""Reads of the delivery model. Every staff-facing query is scoped through these."""

from django.db.models import QuerySet

from accounts.models import User

from .models import Hub, HubMembership, Participant, Programme


def programme_catalogue() -> QuerySet[Programme]:
    return Programme.objects.all()


def enrolments_for_user(*, user: User) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(user=user)
        .select_related("course__programme", "course__cohort__hub", "group")
        .order_by("-course__delivery_start")
    )


def hubs_for_staff(*, user: User) -> QuerySet[Hub]:
    """The hubs whose data this staff user may see: all for superusers, else their own."""
    if user.is_superuser:
        return Hub.objects.all()
    return Hub.objects.filter(memberships__user=user).distinct()


def is_hub_admin(*, user: User) -> bool:
    return HubMembership.objects.filter(user=user, role=HubMembership.Role.HUB_ADMIN).exists()
