"""Every changelist and staff page costs the same number of queries with 10 rows as with 1,000
(no N+1), within a pinned budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.models import Application, Endorsement
from assessment.models import Entry, MarkingAssignment, Submission
from assessment.services import window_create
from engagement.models import Activity, Attendance, EngagementTally
from funding.models import FundingDecision, FundingReview, FundingRound
from programmes.models import Cohort, Course, Group, HubMembership, Participant, Programme
from tests.factories import ActivityFactory, GroupFactory, HubStaffFactory

pytestmark = pytest.mark.django_db


def grow(model: str, group: Group, activity: Activity, start: int, stop: int) -> None:
    """Add rows ``start``..``stop`` of ``model`` to the hub of ``group`` (bulk, for speed)."""
    course, hub = group.course, group.course.cohort.hub
    indices = range(start, stop)
    if model == "cohort":
        Cohort.objects.bulk_create(
            Cohort(
                hub=hub,
                identifier=f"c-{i}",
                start_date=course.delivery_start,
                registration_opens_on=course.delivery_start,
                registration_closes_on=course.delivery_start,
                funding_round=FundingRound.objects.get(code="2025"),
            )
            for i in indices
        )
    elif model == "course":
        cohorts = Cohort.objects.bulk_create(
            Cohort(
                hub=hub,
                identifier=f"k-{i}",
                start_date=course.delivery_start,
                registration_opens_on=course.delivery_start,
                registration_closes_on=course.delivery_start,
                funding_round=FundingRound.objects.get(code="2025"),
            )
            for i in indices
        )
        programme = Programme.objects.get(code="NPQSL")
        Course.objects.bulk_create(
            Course(
                cohort=c,
                programme=programme,
                delivery_start=course.delivery_start,
                delivery_end=course.delivery_end,
                funded_places=10,
            )
            for c in cohorts
        )
    elif model == "group":
        Group.objects.bulk_create(Group(course=course, name=f"g-{i}", capacity=10) for i in indices)
    elif model == "activity":
        Activity.objects.bulk_create(
            Activity(
                course=course,
                group=group,
                code=f"a-{i}",
                kind="seminar",
                title=f"Seminar {i}",
                starts_at=activity.starts_at,
            )
            for i in indices
        )
    else:
        users = User.objects.bulk_create(
            User(email=f"p{i}@school.example", full_name=f"P {i}") for i in indices
        )
        participants = Participant.objects.bulk_create(
            Participant(user=u, course=course, group=group, trn=f"{3000000 + i}")
            for u, i in zip(users, indices, strict=True)
        )
        if model == "attendance":
            Attendance.objects.bulk_create(
                Attendance(participant=p, activity=activity, status="attended") for p in participants
            )


@pytest.mark.parametrize("model", ["cohort", "course", "group", "activity", "participant", "attendance"])
def test_changelist_queries_do_not_grow_with_rows(client, model):
    group = GroupFactory(capacity=5000)
    activity = ActivityFactory(group=group)
    staff = HubStaffFactory(hub=group.course.cohort.hub)
    client.force_login(staff)
    app = "engagement" if model in ("activity", "attendance") else "programmes"
    url = reverse(f"admin:{app}_{model}_changelist")

    grow(model, group, activity, 0, 10)
    client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(model, group, activity, 10, 1000)
    response = client.get(url)
    assert response.context["cl"].result_count >= 1000
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


# Session, user, two-factor check, permissions, the scope, the rows, their count, the filters'
# choices, the admin's navigation: whatever a page needs, it needs the same at 1,000 rows.
QUERY_BUDGET = 40


def populate(group: Group, activity: Activity, marker: User, start: int, stop: int) -> None:
    """Rows ``start``..``stop`` of everything staff pages list, in the hub of ``group``: people
    with an application (endorsed, with its funding decision, endorsement and review), an
    enrolment, a mark, a tally (every third at risk), an assessment entry with a script marked by
    ``marker``, and a group of their own in the course (thousands of groups: the filters)."""
    course, now = group.course, timezone.now()
    funding_round = FundingRound.objects.get(code="2025")
    indices = range(start, stop)
    users = User.objects.bulk_create(User(email=f"q{i}@school.example", full_name=f"Q {i}") for i in indices)
    participants = Participant.objects.bulk_create(
        Participant(user=u, course=course, group=group, trn=f"{5000000 + i}")
        for u, i in zip(users, indices, strict=True)
    )
    Attendance.objects.bulk_create(
        Attendance(participant=p, activity=activity, status="attended") for p in participants
    )
    EngagementTally.objects.bulk_create(
        EngagementTally(
            participant=p,
            course_id=p.course_id,
            percent=i % 100,
            due_weight=1,
            on_track=i % 3 != 0,
            computed_at=now,
        )
        for p, i in zip(participants, indices, strict=True)
    )
    decisions = FundingDecision.objects.bulk_create(
        FundingDecision(
            user=u,
            course=course,
            funding_round=funding_round,
            facts={},
            funded=i % 2 == 0,
            reason="eligible" if i % 2 == 0 else "not_in_england",
            subject_to_review=True,
            assessed_at=now,
        )
        for u, i in zip(users, indices, strict=True)
    )
    FundingReview.objects.bulk_create(FundingReview(decision=d, opened_at=now) for d in decisions)
    applications = Application.objects.bulk_create(
        Application(
            user=u,
            cohort=course.cohort,
            course=course,
            status=Application.Status.ENDORSED,
            answers={"role": "Teacher"},
            started_at=now,
            submitted_at=now,
            full_name=u.full_name,
            endorser_name="Head",
            endorser_email=f"head{i}@school.example",
            funding_decision=d,
        )
        for u, d, i in zip(users, decisions, indices, strict=True)
    )
    Endorsement.objects.bulk_create(
        Endorsement(
            application=a,
            endorser_name="Head",
            endorser_email=a.endorser_email,
            endorser_domain="school.example",
            domain_concern="webmail" if i % 4 == 0 else "",
            token_hash=f"t{i}",
            sent_at=now,
            expires_at=now,
            used_at=now,
            decision="endorsed",
        )
        for a, i in zip(applications, indices, strict=True)
    )
    window = course.assessment_window
    entries = Entry.objects.bulk_create(
        Entry(window=window, participant=p, engagement_at_opening=95, access="engagement")
        for p in participants
    )
    Submission.objects.bulk_create(
        Submission(entry=e, text="A response.", word_count=2, submitted_at=now) for e in entries
    )
    MarkingAssignment.objects.bulk_create(
        MarkingAssignment(entry=e, role="first", marker=marker) for e in entries
    )
    Group.objects.bulk_create(Group(course=course, name=f"q-{i}", capacity=10) for i in indices)


def staff_pages(group: Group, activity: Activity) -> dict[str, str]:
    """Every staff page a hub administrator reads, by name."""
    course = group.course
    application = Application.objects.filter(course=course).order_by("pk").first()
    participant = Participant.objects.filter(course=course).order_by("pk").first()
    pages = {
        f"{app}.{model} list": reverse(f"admin:{app}_{model}_changelist")
        for app, model in [
            ("applications", "application"),
            ("programmes", "participant"),
            ("engagement", "attendance"),
            ("engagement", "activity"),
            ("programmes", "group"),
            ("programmes", "course"),
            ("programmes", "cohort"),
            ("programmes", "hub"),
            ("funding", "fundingdecision"),
            ("funding", "fundingreview"),
            ("assessment", "assessmentwindow"),
            ("assessment", "entry"),
        ]
    }
    return {
        **pages,
        "admin home": reverse("admin:index"),
        "waiting list": reverse("admin:applications_application_changelist") + "?status__exact=waitlisted",
        "applications searched": reverse("admin:applications_application_changelist") + "?q=school",
        "participants of a group": reverse("admin:programmes_participant_changelist")
        + "?group__name__icontains=q",
        "application page": reverse("admin:applications_application_change", args=[application.pk]),
        "participant page": reverse("admin:programmes_participant_change", args=[participant.pk]),
        "funding decision page": reverse(
            "admin:funding_fundingdecision_change", args=[application.funding_decision_id]
        ),
        "course page": reverse("admin:programmes_course_change", args=[course.pk]),
        "group page": reverse("admin:programmes_group_change", args=[group.pk]),
        "activity page": reverse("admin:engagement_activity_change", args=[activity.pk]),
        "assessment window page": reverse(
            "admin:assessment_assessmentwindow_change", args=[course.assessment_window.pk]
        ),
        "entry page": reverse(
            "admin:assessment_entry_change", args=[Entry.objects.filter(participant=participant).get().pk]
        ),
        "funding review page": reverse(
            "admin:funding_fundingreview_change", args=[application.funding_decision.review.pk]
        ),
        "accepting an application": reverse("admin:applications_application_accept", args=[application.pk]),
        "moving a participant": reverse("admin:programmes_participant_status", args=[participant.pk, "move"]),
        "withdrawing a participant": reverse(
            "admin:programmes_participant_status", args=[participant.pk, "withdraw"]
        ),
        "funding report": reverse("admin:funding_fundingdecision_report"),
        "course engagement": reverse("admin:programmes_course_engagement", args=[course.pk]),
        "group grid": reverse("admin:programmes_group_grid", args=[group.pk]),
        "register": reverse("admin:engagement_activity_register", args=[activity.pk]),
        "assessment manage": reverse("admin:assessment_window_manage", args=[course.assessment_window.pk]),
    }


def query_counts(client, pages: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(queries)
    return counts


def test_every_staff_page_costs_the_same_queries_at_10_and_1000_rows(client):
    group = GroupFactory(capacity=5000)
    activity = ActivityFactory(group=group)
    window_create(course=group.course, opens_on=group.course.delivery_end, case_study_text="A case.")
    hub = group.course.cohort.hub
    admin_user = HubStaffFactory(hub=hub)
    marker = HubStaffFactory(hub=hub, hub__role=HubMembership.Role.FACILITATOR)
    group.facilitators.add(marker)
    populate(group, activity, marker, 0, 10)
    pages = staff_pages(group, activity)
    facilitator_pages = {
        name: url
        for name, url in pages.items()
        if (name.startswith("programmes.") and "hub" not in name)
        or name in ("course engagement", "group grid")
    }
    facilitator_pages["marking list"] = reverse("marking_list")
    facilitator_pages["marking a script"] = reverse(
        "marking_script", args=[MarkingAssignment.objects.filter(marker=marker).order_by("pk").first().pk]
    )

    client.force_login(admin_user)
    query_counts(client, pages)  # warm the session and content types
    small = query_counts(client, pages)
    client.force_login(marker)
    query_counts(client, facilitator_pages)
    small_facilitator = query_counts(client, facilitator_pages)

    populate(group, activity, marker, 10, 1000)
    assert Application.objects.count() >= 1000 and Group.objects.count() >= 1000
    large_facilitator = query_counts(client, facilitator_pages)
    client.force_login(admin_user)
    query_counts(client, {"home": pages["admin home"]})
    large = query_counts(client, pages)

    grown = {name: (small[name], large[name]) for name in pages if large[name] != small[name]}
    assert not grown, f"queries at 10 and at 1,000 rows: {grown}"
    grown = {
        name: (small_facilitator[name], large_facilitator[name])
        for name in facilitator_pages
        if large_facilitator[name] != small_facilitator[name]
    }
    assert not grown, f"as a facilitator, queries at 10 and at 1,000 rows: {grown}"
    over = {name: n for name, n in {**large, **large_facilitator}.items() if n > QUERY_BUDGET}
    assert not over, f"over the budget of {QUERY_BUDGET}: {over}"
