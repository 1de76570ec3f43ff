"""Reads of engagement records for staff pages and calendars, scoped like every staff query
(``programmes.selectors.visible_to``): activities and marks reach a hub through their course,
and a facilitator sees their groups' (and their courses' course-wide activities)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from programmes.models import Course, Group, HubMembership, Participant
from programmes.selectors import courses_with_user_groups, facilitated_group_ids, register_scope, visible_to

from .models import Activity, Attendance, Register
from .tally import due_flag, recorded_alone_flag

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

    # By the tally's own course (index tally_course_at_risk), not through every participant. The
    # spread also names the participants' course, so that their course index picks them (rather
    # than a scan of every participant to join); the at-risk page reads the index in order.
    tallies = EngagementTally.objects.filter(
        course_id=course.pk, participant__status__in=Participant.LIVE_STATUSES
    )
    if participants is not None:  # None: all of the course's (its hub's administrators)
        tallies = tallies.filter(participant__in=participants)
    at_risk = tallies.filter(on_track=False)
    tallies = tallies.filter(participant__course_id=course.pk)
    width = 100 // ENGAGEMENT_BANDS
    top = ENGAGEMENT_BANDS - 1
    bands = {
        f"band_{i}": Count(
            "pk",
            filter=Q(percent__gte=i * width) & (Q(percent__lt=(i + 1) * width) if i < top else Q()),
        )
        for i in range(ENGAGEMENT_BANDS)
    }
    # Counted by group id (a hash of the ids, no join to the groups nor sort of the rows by
    # name); the names are the course's groups', read apart.
    spread = list(
        tallies.values("participant__group_id")
        .annotate(
            **bands,
            tallied=Count("pk"),
            at_risk=Count("pk", filter=Q(on_track=False)),
            computed_at=Max("computed_at"),
        )
        .order_by()
    )
    names = dict(Group.objects.filter(course_id=course.pk).order_by().values_list("pk", "name"))
    groups = sorted(
        (
            names.get(row["participant__group_id"], "No group"),
            [row[f"band_{i}"] for i in range(ENGAGEMENT_BANDS)],
        )
        for row in spread
    )
    return {
        "tallied": sum(row["tallied"] for row in spread),
        "computed_at": max((row["computed_at"] for row in spread), default=None),
        "at_risk": at_risk.select_related("participant__user", "participant__group").order_by(
            "percent", "participant__user__email", "pk"
        ),
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


class AwaitingRecords:
    """Activities of a course due so far whose record has not come in for some of ``groups``
    (the groups staff see), in date order: each as (activity, [groups still awaiting its register
    or LMS import]). A sequence for a paginator: ``count()`` is one query, and a slice reads only
    its own activities (and, for the course-wide ones among them, their registers), so a page
    costs the same for a course of 5 groups or of 500.

    The rules are the tally's, in SQL: an activity is awaited by a group when it is due, not
    recorded alone (``recorded_alone_flag``), and its register for that group is not taken."""

    def __init__(
        self, *, course_id: int, groups: list, today: date | None = None, all_groups: bool = False
    ) -> None:
        """``all_groups``: ``groups`` are every group of the course (its hub's administrators), so
        the queries need not list them (hundreds of ids sent and parsed for nothing)."""
        today = today or timezone.localdate()
        self.groups = groups
        group_ids = [g.pk for g in groups]
        own_register = Register.objects.filter(activity=OuterRef("pk"), group_id=OuterRef("group_id"))
        # A course-wide activity is awaited while fewer of the groups than all have its register.
        registers = Register.objects.filter(activity=OuterRef("pk"))
        registers = (
            registers.filter(group__isnull=False) if all_groups else registers.filter(group_id__in=group_ids)
        )
        registered_groups = registers.order_by().values("activity").annotate(n=Count("pk")).values("n")
        of_the_groups = Q(group__isnull=False) if all_groups else Q(group_id__in=group_ids)
        self.activities = (
            Activity.objects.filter(course_id=course_id, required=True, counts_towards_engagement=True)
            .alias(
                is_due=due_flag(today),
                recorded_alone=recorded_alone_flag(today),
                groups_registered=Coalesce(Subquery(registered_groups), 0),
            )
            .filter(is_due=True, recorded_alone=False)
            .filter(
                (of_the_groups & ~Exists(own_register))
                | Q(group__isnull=True, groups_registered__lt=len(group_ids))
            )
            .only("pk", "course_id", "group_id", "code", "title", "starts_at", "due_on", "imported_on")
            .order_by("starts_at", "due_on", "title", "pk")  # pk: the same order every time
        )

    def count(self) -> int:
        return self.activities.count()

    def page_and_count(self, *, offset: int, limit: int) -> tuple[list[tuple[Activity, list]], int | None]:
        """The rows from ``offset`` and how many there are in all, in one query (a window count);
        the count is None when ``offset`` is past the end (no row to carry it)."""
        rows = list(self.activities.annotate(total=Window(Count("pk")))[offset : offset + limit])
        return self._with_groups(rows), (rows[0].total if rows else None)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple[Activity, list]]:
        return self._with_groups(list(self.activities[index]))

    def _with_groups(self, activities: list[Activity]) -> list[tuple[Activity, list]]:
        course_wide = [a.pk for a in activities if a.group_id is None]
        taken = set(
            Register.objects.filter(activity_id__in=course_wide, group__isnull=False).values_list(
                "activity_id", "group_id"
            )
            if course_wide
            else ()
        )
        by_id = {g.pk: g for g in self.groups}
        return [
            (
                activity,
                [g for g in self.groups if (activity.pk, g.pk) not in taken]
                if activity.group_id is None
                else [by_id[activity.group_id]],
            )
            for activity in activities
        ]

    def __iter__(self):
        return iter(self[:])


def awaiting_records(
    *, course_id: int, groups: list, today: date | None = None
) -> list[tuple[Activity, list]]:
    """Every activity of the course awaiting its record for some of ``groups``, with those groups
    (``AwaitingRecords``, whole)."""
    return list(AwaitingRecords(course_id=course_id, groups=groups, today=today))
