"""Reads of the delivery model. Every staff-facing query is scoped through ``visible_to``.

Superusers see everything. A hub administrator sees all of their hub's rows. A facilitator
sees the groups they facilitate, the participants and activities of those groups (and the
course-wide activities of their courses), and the cohorts and courses those groups belong to.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import (
    Cohort,
    Course,
    FreedPlace,
    Group,
    Hub,
    HubMembership,
    Participant,
    Programme,
)


def programme_catalogue() -> QuerySet[Programme]:
    return Programme.objects.all()


def enrolments_for_user(*, user: User) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(user=user)
        .select_related("course__programme", "course__cohort__hub", "group")
        .order_by("-course__delivery_start")
    )


def administered_hub_ids(user: User) -> QuerySet:
    return HubMembership.objects.filter(user=user, role=HubMembership.Role.HUB_ADMIN).values("hub_id")


def facilitated_group_ids(user: User) -> QuerySet:
    return Group.objects.filter(facilitators=user).values("pk")


def courses_with_user_groups(user: User) -> QuerySet:
    return Group.objects.filter(facilitators=user).values("course_id")


# The path from each model to its hub: hub administrators see and change these rows.
HUB_PATHS: dict[type[Model], str] = {
    Hub: "pk",
    Cohort: "hub",
    Course: "cohort__hub",
    Group: "course__cohort__hub",
    Participant: "course__cohort__hub",
    HubMembership: "hub",
    FreedPlace: "course__cohort__hub",
}

# What a facilitator sees besides (read only, whatever their roles elsewhere).
FACILITATOR_SCOPES: dict[type[Model], Callable[[User], Q]] = {
    Hub: lambda user: Q(pk__in=Group.objects.filter(facilitators=user).values("course__cohort__hub")),
    Cohort: lambda user: Q(
        pk__in=Course.objects.filter(pk__in=courses_with_user_groups(user)).values("cohort_id")
    ),
    Course: lambda user: Q(pk__in=courses_with_user_groups(user)),
    Group: lambda user: Q(pk__in=facilitated_group_ids(user)),
    Participant: lambda user: Q(group__in=facilitated_group_ids(user)),
}


def register_scope(
    model: type[Model], *, hub_path: str, facilitator: Callable[[User], Q] | None = None
) -> None:
    """Let another app say how its model reaches a hub (e.g. funding decisions)."""
    HUB_PATHS[model] = hub_path
    if facilitator is not None:
        FACILITATOR_SCOPES[model] = facilitator


def administered(queryset: QuerySet, user: User) -> QuerySet:
    """The rows of the hubs ``user`` administers: the ones they may change."""
    if user.is_superuser:
        return queryset
    path = HUB_PATHS.get(queryset.model)
    if path is None:
        return queryset.none()
    return queryset.filter(**{f"{path}__in": administered_hub_ids(user)})


def visible_to(queryset: QuerySet, user: User) -> QuerySet:
    """The rows ``user`` may see: their hubs' as administrator, their groups' as facilitator."""
    if user.is_superuser:
        return queryset
    path = HUB_PATHS.get(queryset.model)
    if path is None:
        return queryset.none()
    scope = Q(**{f"{path}__in": administered_hub_ids(user)})
    facilitator = FACILITATOR_SCOPES.get(queryset.model)
    if facilitator is not None:
        scope |= facilitator(user)
    return queryset.filter(scope)


def may_change(obj: Model, user: User) -> bool:
    return administered(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def own_enrolment(request: HttpRequest, pk: int, *related: str) -> Participant:
    """The signed-in user's own enrolment (with ``related`` rows joined too), or 404."""
    return get_object_or_404(
        Participant.objects.select_related("course__programme", "course__cohort__hub", "group", *related),
        pk=pk,
        user=request.user,
    )
