"""Each changelist costs the same number of queries with 10 rows as with 1,000 (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from funding.models import FundingRound
from programmes.models import Activity, Attendance, Cohort, Course, Group, Participant, Programme
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
    url = reverse(f"admin:programmes_{model}_changelist")

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


def test_changelist_query_budget_is_pinned(client, django_assert_max_num_queries):
    group = GroupFactory(capacity=5000)
    activity = ActivityFactory(group=group)
    grow("attendance", group, activity, 0, 200)
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    for model in ("participant", "attendance", "activity"):
        with django_assert_max_num_queries(12):
            client.get(reverse(f"admin:programmes_{model}_changelist"))
