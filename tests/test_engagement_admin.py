"""Hub staff reach a course's engagement from the course list, the course page and the admin
home ("Participants at risk", scoped to their hub, in a constant number of queries)."""

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagement.services import register_save
from engagement.tally import tally_course
from programmes.services import sync_staff_access
from tests.factories import (
    LONDON,
    ActivityFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    HubFactory,
    HubStaffFactory,
    ParticipantFactory,
)

pytestmark = pytest.mark.django_db
TODAY = date(2025, 12, 1)


def course_with(hub, *, at_risk: int, on_track: int, identifier: str):
    """A course of ``hub`` whose one register left ``at_risk`` participants absent."""
    group = GroupFactory(course=CourseFactory(cohort=CohortFactory(hub=hub, identifier=identifier)))
    absent = [ParticipantFactory(group=group) for _ in range(at_risk)]
    present = [ParticipantFactory(group=group) for _ in range(on_track)]
    seminar = ActivityFactory(group=group, starts_at=datetime(2025, 11, 5, 16, tzinfo=LONDON))
    register_save(
        activity=seminar,
        marks={**{p.pk: "absent" for p in absent}, **{p.pk: "attended" for p in present}},
        by=HubStaffFactory(hub=hub),
    )
    tally_course(course_id=group.course_id, today=TODAY)
    return group.course


def test_the_course_list_and_the_course_page_link_to_its_engagement(client):
    hub = HubFactory()
    course = course_with(hub, at_risk=1, on_track=1, identifier="2025-autumn")
    client.force_login(HubStaffFactory(hub=hub))
    engagement = reverse("admin:programmes_course_engagement", args=[course.pk])
    listing = client.get(reverse("admin:programmes_course_changelist")).content.decode()
    assert (
        f'<a href="{engagement}">Engagement<span class="visually-hidden"> of {course}</span></a>' in listing
    )
    change = client.get(reverse("admin:programmes_course_change", args=[course.pk])).content.decode()
    assert f'<a href="{engagement}">Engagement and participants at risk</a>' in change
    assert client.get(engagement).status_code == 200


def test_the_admin_home_lists_the_hubs_courses_with_participants_at_risk(client):
    hub = HubFactory()
    mine = course_with(hub, at_risk=2, on_track=1, identifier="2025-autumn")
    calm = course_with(hub, at_risk=0, on_track=2, identifier="2025-spring")
    theirs = course_with(HubFactory(), at_risk=3, on_track=0, identifier="2025-winter")
    client.force_login(HubStaffFactory(hub=hub))
    html = client.get(reverse("admin:index")).content.decode()
    panel = html[
        html.index('id="participants-at-risk"') : html.index("</table>", html.index("participants-at-risk"))
    ]
    assert "<caption>Participants at risk</caption>" in panel
    assert reverse("admin:programmes_course_engagement", args=[mine.pk]) in panel
    assert "<strong>2</strong> of 3" in panel and "0 of 2" in panel
    assert reverse("admin:programmes_course_engagement", args=[calm.pk]) in panel
    assert reverse("admin:programmes_course_engagement", args=[theirs.pk]) not in panel


def test_a_facilitator_counts_only_their_own_groups_participants(client):
    hub = HubFactory()
    course = course_with(hub, at_risk=2, on_track=1, identifier="2025-autumn")
    other = GroupFactory(course=course)
    ParticipantFactory(group=other)
    facilitator = HubStaffFactory()
    other.facilitators.add(facilitator)
    sync_staff_access(user=facilitator)
    client.force_login(facilitator)
    html = client.get(reverse("admin:index")).content.decode()
    assert "0 of 1" in html and "<strong>2</strong>" not in html


def test_the_admin_home_costs_the_same_queries_for_one_course_or_many(client, django_assert_max_num_queries):
    hub = HubFactory()
    staff = HubStaffFactory(hub=hub)
    course_with(hub, at_risk=1, on_track=1, identifier="c-0")
    client.force_login(staff)
    client.get(reverse("admin:index"))  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("admin:index"))
    for i in range(1, 5):
        course_with(hub, at_risk=2, on_track=1, identifier=f"c-{i}")
    # Session, user, authenticator, two permission reads, the privacy models' hubs, the staff
    # scope, the panel's two queries (counts by course, the courses), the log.
    with django_assert_max_num_queries(10) as many:
        html = client.get(reverse("admin:index")).content.decode()
    assert len(many.captured_queries) == len(one.captured_queries)
    assert html.count('/engagement/">') == 5
