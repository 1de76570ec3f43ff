"""Reads of engagement records for staff pages and calendars, scoped like every staff query
(``programmes.selectors.visible_to``): activities and marks reach a hub through their course,
and a facilitator sees their groups' (and their courses' course-wide activities)."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from programmes.models import Course, Group, HubMembership, Participant
from programmes.selectors import courses_with_user_groups, facilitated_group_ids, register_scope, visible_to

from .models import Activity, Attendance, Register
from .tally import is_recorded, start_of_next_day

register_scope(
    Activity,
    hub_path="course__cohort__hub",
    facilitator=lambda user: (
        Q(group__in=facilitated_group_ids(user))
        | Q(group__isnull=True, course__in=courses_with_user_groups(user))
    ),
)
register_scope(
    Attendance,
    hub_path="activity__course__cohort__hub",
    facilitator=lambda user: Q(participant__group__in=facilitated_group_ids(user)),
)


def register_roster(*, activity: Activity, user: User | None = None) -> QuerySet[Participant]:
    """Who is on the register of ``activity``: its group's, or its course's, live participants
    (only those ``user`` may see: a facilitator marks their own groups)."""
    participants = Participant.objects.filter(
        course_id=activity.course_id, status__in=Participant.LIVE_STATUSES
    )
    if user is not None:
        participants = visible_to(participants, user)
    if activity.group_id:
        participants = participants.filter(group_id=activity.group_id)
    return participants.select_related("user", "group").order_by("user__full_name", "user__email")


def calendar_activities(*, user: User, since: date | None = None) -> QuerySet[Activity]:
    """Sessions and deadlines for a participant's live enrolments and a facilitator's groups.

    Read when the feed is fetched: an inactive account has none, and a facilitator's groups
    count only at hubs whose staff they are now (whatever facilitation was left behind)."""
    if not user.is_active:
        return Activity.objects.none()
    enrolments = Participant.objects.filter(user=user, status__in=Participant.LIVE_STATUSES)
    own_groups = enrolments.exclude(group__isnull=True).values("group_id")
    as_participant = Q(course__in=enrolments.values("course_id")) & (
        Q(group__isnull=True) | Q(group__in=own_groups)
    )
    current = Group.objects.filter(
        facilitators=user,
        course__cohort__hub__in=HubMembership.objects.filter(user=user).values("hub_id"),
    )
    as_facilitator = Q(group__in=current.values("pk")) | Q(
        group__isnull=True, course__in=current.values("course_id")
    )
    activities = Activity.objects.filter(as_participant | as_facilitator)
    if since is not None:
        activities = activities.filter(Q(starts_at__date__gte=since) | Q(due_on__gte=since))
    return activities.select_related("course__programme", "course__cohort__hub", "group").distinct()


ENGAGEMENT_BANDS = 10  # the staff charts' 10%-wide bands (100% goes in the top one)


def course_engagement(*, course, participants: QuerySet[Participant] | None = None) -> dict:
    """For staff: the tallies of the course's live ``participants`` (those they may see) in
    one query whatever the size of the course (each group's spread counted in the database, one
    conditional count per band, with its tallied and at-risk counts and latest tally, summed
    here over the groups) and the at-risk ones as a query for the page to paginate (their
    number is known already: no second count)."""
    from django.db.models import Count, Max

    from .models import EngagementTally

    # By the tally's own course (index tally_course_at_risk), not through every participant.
    tallies = EngagementTally.objects.filter(
        course_id=course.pk, participant__status__in=Participant.LIVE_STATUSES
    )
    if participants is not None:  # None: all of the course's (its hub's administrators)
        tallies = tallies.filter(participant__in=participants)
    width = 100 // ENGAGEMENT_BANDS
    top = ENGAGEMENT_BANDS - 1
    bands = {
        f"band_{i}": Count(
            "pk",
            filter=Q(percent__gte=i * width) & (Q(percent__lt=(i + 1) * width) if i < top else Q()),
        )
        for i in range(ENGAGEMENT_BANDS)
    }
    spread = list(
        tallies.values("participant__group__name")
        .annotate(
            **bands,
            tallied=Count("pk"),
            at_risk=Count("pk", filter=Q(on_track=False)),
            computed_at=Max("computed_at"),
        )
        .order_by("participant__group__name")
    )
    groups = sorted(
        (row["participant__group__name"] or "No group", [row[f"band_{i}"] for i in range(ENGAGEMENT_BANDS)])
        for row in spread
    )
    return {
        "tallied": sum(row["tallied"] for row in spread),
        "computed_at": max((row["computed_at"] for row in spread), default=None),
        "at_risk": tallies.filter(on_track=False)
        .select_related("participant__user", "participant__group")
        .order_by("percent", "participant__user__email", "pk"),
        "at_risk_count": sum(row["at_risk"] for row in spread),
        "groups": groups,
    }


def group_grid(*, group, today: date | None = None) -> tuple[list, list]:
    """Participants x activities of a group:
    (activities, [(participant, [(mark or None, state), ...], tally)]), state as in engagement."""
    from django.utils import timezone

    from .models import EngagementTally
    from .tally import activity_state, group_registers

    today = today or timezone.localdate()
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
    taken = group_registers(activities=activities, group_id=group.pk)
    tallies = {t.participant_id: t for t in EngagementTally.objects.filter(participant__in=participants)}

    def cell(p: Participant, a: Activity) -> tuple[str | None, str]:
        mark = marks.get((p.pk, a.pk))
        return mark, activity_state(a, mark=mark, register_taken=a.pk in taken, today=today)

    rows = [(p, [cell(p, a) for a in activities], tallies.get(p.pk)) for p in participants]
    return activities, rows


def courses_at_risk(*, user: User, request=None) -> list[Course]:
    """The courses ``user`` sees that have participants still on them, each with ``live`` (the
    participants the user sees) and ``at_risk`` (those of them below the engagement bar): two
    queries, however many courses (the admin home's "Participants at risk").

    The counts are one grouping of the live participants by course id (one hash join with the
    tallies), not a grouping by every column of course, cohort, hub and programme (which sorted
    all the hub's participants, spilling to disk); with ``request`` the scope is read once
    (``programmes.staff_scope``) and a hub administrator's participants need no matching."""
    from django.db.models import Count

    from programmes.staff_scope import request_scope, visible_in_request

    participants = Participant.objects.filter(status__in=Participant.LIVE_STATUSES)
    if request is None:
        courses = visible_to(Course.objects.all(), user)
        participants = visible_to(participants, user)
    else:
        courses = visible_in_request(Course.objects.all(), request)
        scope = request_scope(request)
        if not user.is_superuser and (scope.facilitates_elsewhere or not scope.hub_ids):
            participants = visible_in_request(participants, request)  # a facilitator: their groups'
    counts = {
        row["course_id"]: row
        for row in participants.filter(course__in=courses.values("pk"))
        .order_by()
        .values("course_id")
        .annotate(live=Count("pk"), at_risk=Count("pk", filter=Q(tally__on_track=False)))
    }
    found = list(
        courses.filter(pk__in=list(counts))
        .select_related("programme", "cohort__hub")
        .order_by("-delivery_start", "programme__code", "cohort__hub__name")
    )
    for course in found:
        course.live, course.at_risk = counts[course.pk]["live"], counts[course.pk]["at_risk"]
    return found


def awaiting_records(
    *, course_id: int, groups: list, today: date | None = None
) -> list[tuple[Activity, list]]:
    """Activities of the course due so far whose record has not come in for some of ``groups``
    (the groups staff see): (activity, [groups still awaiting its register or LMS import]).
    Two queries whatever the size of the course."""
    today = today or timezone.localdate()
    group_ids = [g.pk for g in groups]
    # Only the activities due so far (is_due, in SQL), less the group activities whose group's
    # register is taken (recorded, whatever else), with the fields the rules and the page read:
    # a course of hundreds of groups has thousands of activities, most of them recorded.
    own_register = Register.objects.filter(activity=OuterRef("pk"), group_id=OuterRef("group_id"))
    activities = list(
        Activity.objects.filter(course_id=course_id, required=True, counts_towards_engagement=True)
        .filter(Q(group__isnull=True) | Q(group_id__in=group_ids))
        .filter(Q(starts_at__lt=start_of_next_day(today)) | Q(due_on__lte=today))
        .exclude(Q(group__isnull=False) & Exists(own_register))
        .only("pk", "course_id", "group_id", "code", "title", "starts_at", "due_on", "imported_on")
        .order_by("starts_at", "due_on", "title", "pk")  # pk: the same order every time
    )
    # The group registers of the course's activities for every group, looked up below by
    # (activity, group): no list of thousands of activity ids sent to the database.
    taken = set(
        Register.objects.filter(
            activity__course_id=course_id, activity__group__isnull=True, group__isnull=False
        ).values_list("activity_id", "group_id")
    )
    by_id = {g.pk: g for g in groups}
    awaiting = []
    for activity in activities:
        # A group's activity concerns its group only: no pass over every group for each of them
        # (a course of a hundred groups has a thousand group activities).
        if activity.group_id is None:
            concerned = groups
        else:
            concerned = [by_id[activity.group_id]] if activity.group_id in by_id else []
        # Recorded without a register (imported, or an online task past its days) is the same
        # for every group: asked once, then each group's register looked up.
        if is_recorded(activity, mark=None, register_taken=False, today=today):
            continue
        waiting = [g for g in concerned if (activity.pk, g.pk) not in taken]
        if waiting:
            awaiting.append((activity, waiting))
    return awaiting
