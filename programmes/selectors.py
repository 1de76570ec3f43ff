"""Reads of the delivery model. Every staff-facing query is scoped through ``visible_to``.

Superusers see everything. A hub administrator sees all of their hub's rows. A facilitator
sees the groups they facilitate, the participants and activities of those groups (and the
course-wide activities of their courses), and the cohorts and courses those groups belong to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db.models import Model, Q, QuerySet

from accounts.models import User

from .models import (
    Activity,
    Attendance,
    Cohort,
    Course,
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


def _scope(user: User, *, hub: str, group: str) -> Q:
    """Rows of the hubs ``user`` administers, or linked through ``group`` to their groups."""
    return Q(**{f"{hub}__in": administered_hub_ids(user)}) | Q(
        **{f"{group}__in": facilitated_group_ids(user)}
    )


def _courses_with_user_groups(user: User) -> QuerySet:
    return Group.objects.filter(facilitators=user).values("course_id")


SCOPES: dict[type[Model], Callable[[User], Q]] = {
    Hub: lambda user: Q(pk__in=HubMembership.objects.filter(user=user).values("hub_id")),
    Cohort: lambda user: (
        Q(hub__in=administered_hub_ids(user))
        | Q(pk__in=Course.objects.filter(pk__in=_courses_with_user_groups(user)).values("cohort_id"))
    ),
    Course: lambda user: (
        Q(cohort__hub__in=administered_hub_ids(user)) | Q(pk__in=_courses_with_user_groups(user))
    ),
    Group: lambda user: _scope(user, hub="course__cohort__hub", group="pk"),
    Participant: lambda user: _scope(user, hub="course__cohort__hub", group="group"),
    Activity: lambda user: (
        _scope(user, hub="course__cohort__hub", group="group")
        | Q(group__isnull=True, course__in=_courses_with_user_groups(user))
    ),
    Attendance: lambda user: _scope(user, hub="activity__course__cohort__hub", group="participant__group"),
    HubMembership: lambda user: Q(hub__in=administered_hub_ids(user)),
}


def register_scope(model: type[Model], scope: Callable[[User], Q]) -> None:
    """Let another app say who sees which rows of its model (e.g. funding decisions)."""
    SCOPES[model] = scope


def visible_to(queryset: QuerySet, user: User) -> QuerySet:
    """Limit ``queryset`` to the rows ``user`` may see. Unknown models show nothing to staff."""
    if user.is_superuser:
        return queryset
    scope = SCOPES.get(queryset.model)
    if scope is None:
        return queryset.none()
    return queryset.filter(scope(user))


def register_roster(*, activity: Activity) -> QuerySet[Participant]:
    """Who is on the register of ``activity``: its group's, or its course's, live participants."""
    participants = Participant.objects.filter(
        course_id=activity.course_id, status__in=Participant.LIVE_STATUSES
    )
    if activity.group_id:
        participants = participants.filter(group_id=activity.group_id)
    return participants.select_related("user", "group").order_by("user__full_name", "user__email")


def calendar_activities(*, user: User, since: date | None = None) -> QuerySet[Activity]:
    """Sessions and deadlines for a participant's live enrolments and a facilitator's groups."""
    enrolments = Participant.objects.filter(user=user, status__in=Participant.LIVE_STATUSES)
    own_groups = enrolments.exclude(group__isnull=True).values("group_id")
    as_participant = Q(course__in=enrolments.values("course_id")) & (
        Q(group__isnull=True) | Q(group__in=own_groups)
    )
    as_facilitator = Q(group__in=facilitated_group_ids(user)) | Q(
        group__isnull=True, course__in=_courses_with_user_groups(user)
    )
    activities = Activity.objects.filter(as_participant | as_facilitator)
    if since is not None:
        activities = activities.filter(Q(starts_at__date__gte=since) | Q(due_on__gte=since))
    return activities.select_related("course__programme", "course__cohort__hub", "group").distinct()


def course_engagement(*, course) -> dict:
    """For staff: tallies of a course's live participants, the at-risk ones, and each group's spread."""
    from .engagement import distribution
    from .models import EngagementTally

    tallies = list(
        EngagementTally.objects.filter(
            participant__course=course, participant__status__in=Participant.LIVE_STATUSES
        )
        .select_related("participant__user", "participant__group")
        .order_by("percent", "participant__user__email")
    )
    at_risk = [t for t in tallies if not t.on_track]
    by_group: dict[str, list] = {}
    for tally in tallies:
        name = tally.participant.group.name if tally.participant.group_id else "No group"
        by_group.setdefault(name, []).append(tally.percent)
    return {
        "tallies": tallies,
        "at_risk": at_risk,
        "groups": [(name, distribution(percents)) for name, percents in sorted(by_group.items())],
        "computed_at": max((t.computed_at for t in tallies), default=None),
    }


def group_grid(*, group) -> tuple[list, list]:
    """Participants x activities of a group: (activities, [(participant, [mark or None, ...], tally)])."""
    from .models import EngagementTally

    activities = list(
        Activity.objects.filter(course_id=group.course_id)
        .filter(Q(group__isnull=True) | Q(group=group))
        .order_by("starts_at", "due_on", "title")
    )
    participants = list(
        Participant.objects.filter(group=group, status__in=Participant.LIVE_STATUSES)
        .select_related("user")
        .order_by("user__email")
    )
    marks = {
        (a.participant_id, a.activity_id): a.status
        for a in Attendance.objects.filter(participant__in=participants, activity__in=activities).only(
            "participant_id", "activity_id", "status"
        )
    }
    tallies = {t.participant_id: t for t in EngagementTally.objects.filter(participant__in=participants)}
    rows = [(p, [marks.get((p.pk, a.pk)) for a in activities], tallies.get(p.pk)) for p in participants]
    return activities, rows
