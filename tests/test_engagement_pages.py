"""What participants and staff see of engagement; mentor check-ins confirmed by emailed link."""

import re
from datetime import date, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from engagement.models import MentorCheckin
from engagement.services import register_save
from engagement.tally import tally_course
from programmes.services import participant_withdraw
from tests.factories import LONDON, ActivityFactory, GroupFactory, HubStaffFactory, ParticipantFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 12, 1, 9, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _december():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def setup():
    group = GroupFactory(name="Group A")
    alice = ParticipantFactory(
        group=group,
        user__full_name="Alice Adeyemi",
        mentor_name="Mo Mentor",
        mentor_email="mo@school.example",
    )
    ben = ParticipantFactory(group=group, user__full_name="Ben Brown")
    past = [
        ActivityFactory(
            group=group,
            code=f"s{i}",
            title=f"Seminar {i}",
            starts_at=datetime(2025, 10, 1 + i, 16, tzinfo=LONDON),
        )
        for i in range(10)
    ]
    ActivityFactory(
        group=group,
        code="next",
        title="Module 2 seminar",
        starts_at=datetime(2025, 12, 10, 16, tzinfo=LONDON),
    )
    staff = HubStaffFactory(hub=group.course.cohort.hub)
    for i, activity in enumerate(past):  # registers taken; Ben is not on the last five as attending
        register_save(
            activity=activity,
            marks={alice.pk: "attended", **({ben.pk: "attended"} if i < 5 else {})},
            by=staff,
        )
    tally_course(course_id=group.course_id, today=date(2025, 12, 1))
    return group, alice, ben


def test_participant_sees_engagement_bar_activities_and_next_sessions(client, setup):
    group, alice, ben = setup
    client.force_login(ben.user)
    html = client.get(reverse("enrolment", args=[ben.pk])).content.decode()
    assert "<strong>50%</strong> of the activities recorded so far" in html
    assert 'class="app-progress__bar" style="width: 50%"' in html and "app-progress__target" in html
    assert 'id="at-risk"' in html and "You can still reach it" not in html  # 5 of 10 done, 1 still to come
    assert "Module 2 seminar</strong> – Wednesday 10 December 2025" in html
    assert html.count("govuk-tag--green") == 5 and html.count("govuk-tag--red") == 5  # missed
    assert 'govuk-tag--yellow">Awaiting record' not in html
    client.force_login(alice.user)
    html = client.get(reverse("enrolment", args=[alice.pk])).content.decode()
    assert "<strong>100%</strong>" in html and 'id="at-risk"' not in html
    assert "0 of 3 one-hour check-ins confirmed by your mentor (Mo Mentor)" in html


def test_not_started_is_shown_as_such(client):
    participant = ParticipantFactory()
    ActivityFactory(group=participant.group, starts_at=datetime(2026, 1, 5, 16, tzinfo=LONDON))
    tally_course(course_id=participant.course_id, today=date(2025, 12, 1))
    client.force_login(participant.user)
    assert (
        "Not started: no activities are due yet."
        in client.get(reverse("enrolment", args=[participant.pk])).content.decode()
    )


def test_someone_elses_enrolment_is_404(client, setup):
    group, alice, ben = setup
    client.force_login(alice.user)
    assert client.get(reverse("enrolment", args=[ben.pk])).status_code == 404
    assert client.post(reverse("checkin_new", args=[ben.pk]), {"held_on": "1 11 2025"}).status_code == 404
    assert not MentorCheckin.objects.exists()


def test_mentor_confirms_a_check_in_once_from_the_emailed_link(
    client, setup, django_capture_on_commit_callbacks
):
    group, alice, ben = setup
    client.force_login(alice.user)
    response = client.post(reverse("checkin_new", args=[alice.pk]), {"held_on": "5 12 2025"})
    assert "must be today or in the past" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("checkin_new", args=[alice.pk]), {"held_on": "20 11 2025", "notes": "Behaviour plan"}
        )
    assert mail.outbox[-1].to == ["mo@school.example"]
    path = re.search(r"https?://[^/]+(/check-ins/confirm/\S+/)", mail.outbox[-1].body).group(1)
    client.logout()  # the mentor needs no account
    assert "Alice Adeyemi says you held a one-hour check-in" in client.get(path).content.decode()
    assert "Check-in confirmed" in client.post(path).content.decode()
    assert client.post(path).status_code == 404  # works once
    assert MentorCheckin.objects.get().confirmed_at is not None
    client.force_login(alice.user)
    assert (
        "1 of 3 one-hour check-ins confirmed"
        in client.get(reverse("enrolment", args=[alice.pk])).content.decode()
    )
    assert client.get("/check-ins/confirm/guessed/").status_code == 404


def test_staff_see_at_risk_list_chart_and_grid_of_their_hub_only(client, setup):
    group, alice, ben = setup
    withdrawn = ParticipantFactory(group=group)
    participant_withdraw(participant=withdrawn, reason="other")
    tally_course(course_id=group.course_id, today=date(2025, 12, 1))
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    page = client.get(reverse("admin:programmes_course_engagement", args=[group.course_id]))
    html = page.content.decode()
    assert [t.participant for t in page.context["at_risk"]] == [ben]
    assert '<svg role="img"' in html and "Group A" in html
    assert page.context["charts"][0][1][5]["count"] == 1 and page.context["charts"][0][1][9]["count"] == 1
    grid = client.get(reverse("admin:programmes_group_grid", args=[group.pk]))
    assert [row[0] for row in grid.context["rows"]] == sorted([alice, ben], key=lambda p: p.user.email)
    csv = client.get(
        reverse("admin:programmes_group_grid", args=[group.pk]), {"format": "csv"}
    ).content.decode()
    lines = csv.strip().splitlines()
    assert lines[0].startswith("Email,Name,TRN,Engagement %,Seminar 0 (s0),Seminar 1 (s1)")
    assert any(
        line.startswith(ben.user.email) and ",50.00,Attended" in line and line.endswith("Missed,")
        for line in lines
    )
    assert '<th scope="col">Seminar 0<br>' in grid.content.decode()  # titles, not codes
    client.force_login(HubStaffFactory(hub=GroupFactory().course.cohort.hub))
    assert (
        client.get(reverse("admin:programmes_course_engagement", args=[group.course_id])).status_code == 404
    )
    assert client.get(reverse("admin:programmes_group_grid", args=[group.pk])).status_code == 404
