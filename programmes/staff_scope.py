"""Hub scoping for staff pages, read once per request.

``visible_to`` is "rows of the hubs the user administers OR rows of the groups they facilitate",
both as subqueries. PostgreSQL cannot turn an OR of two IN-subqueries over different tables into
joins, so every list scanned all of the hub's rows (or all participants) to test each one. A
facilitator only ever sees rows of the hubs of their groups (a participant's group belongs to the
participant's course, a group's activities to the group's course: the services check both), so
when every group someone facilitates is in a hub they administer the second half adds nothing,
and the scope is just ``hub_id IN (their hubs)`` with the ids written into the statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Value
from django.http import HttpRequest

from accounts.models import User

from .models import Group
from .selectors import (
    FACILITATOR_SCOPES,
    HUB_PATHS,
    administered_hub_ids,
    facilitated_group_ids,
    visible_to,
)


@dataclass(frozen=True)
class StaffScope:
    """The hubs someone administers, and whether they facilitate a group outside them."""

    user_id: int
    hub_ids: tuple[int, ...]
    facilitates_elsewhere: bool


def staff_scope(user: User) -> StaffScope:
    """One small indexed query: the administered hubs and the hubs of the facilitated groups."""
    # The same definitions as visible_to's (selectors), so that the two cannot drift apart.
    administers = administered_hub_ids(user).values_list("hub_id", Value(True)).order_by()
    facilitates = (
        Group.objects.filter(pk__in=facilitated_group_ids(user))
        .values_list("course__cohort__hub_id", Value(False))
        .order_by()
    )
    rows = list(administers.union(facilitates))
    hub_ids = tuple(sorted({hub for hub, admin in rows if admin}))
    elsewhere = any(not admin and hub not in hub_ids for hub, admin in rows)
    return StaffScope(user_id=user.pk, hub_ids=hub_ids, facilitates_elsewhere=elsewhere)


def request_scope(request: HttpRequest) -> StaffScope:
    """The scope of ``request.user``, read on first use and kept for the rest of the request
    (a changelist asks for its queryset several times: rows, count, each filter)."""
    scope = getattr(request, "_npq_staff_scope", None)
    if scope is None or scope.user_id != request.user.pk:
        scope = staff_scope(request.user)
        request._npq_staff_scope = scope
    return scope


def visible_in_request(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """The rows ``request.user`` may see: the same rows as ``visible_to``, in a statement the
    planner can drive from the hub's rows (no OR when facilitation adds nothing)."""
    user = request.user
    if user.is_superuser:
        return queryset
    path = HUB_PATHS.get(queryset.model)
    if path is None:
        return queryset.none()
    scope = request_scope(request)
    if not scope.facilitates_elsewhere:
        return queryset.filter(**{f"{path}__in": scope.hub_ids}) if scope.hub_ids else queryset.none()
    if not scope.hub_ids:  # a facilitator only: their groups' rows
        facilitator = FACILITATOR_SCOPES.get(queryset.model)
        return queryset.filter(facilitator(user)) if facilitator else queryset.none()
    return visible_to(queryset, user)  # both, in different hubs: the general form
