"""Mentor check-ins are dated within the course and not in the future: in the form (a GOV.UK
error next to the date), in the service, and when a mentor confirms an earlier bad one."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagement.checkins import CheckinError, checkin_confirm, checkin_log
from engagement.models import MentorCheckin
from tests.factories import LONDON, CohortFactory, CourseFactory, GroupFactory, ParticipantFactory

pytestmark = pytest.mark.django_db
START = date(2026, 9, 7)


@pytest.fixture
def participant():
    cohort = CohortFactory(
        start_date=START, registration_opens_on=date(2026, 5, 1), registration_closes_on=date(2026, 8, 31)
    )
    group = GroupFactory(course=CourseFactory(cohort=cohort))
    return ParticipantFactory(group=group, mentor_name="Mo Mentor", mentor_email="mo@school.example")


@pytest.fixture(autouse=True)
def _october_2026():
    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=LONDON), tick=False):
        yield


def log(client, participant, held_on: str):
    client.force_login(participant.user)
    return client.post(reverse("checkin_new", args=[participant.pk]), {"held_on": held_on})


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "1 1 2020",
            "The check-in date must be the same as or after 7 September 2026, when your course started",
        ),
        (
            "6 9 2026",
            "The check-in date must be the same as or after 7 September 2026, when your course started",
        ),
        ("21 10 2026", "The check-in date must be today or in the past"),
    ],
)
def test_a_date_outside_the_course_or_in_the_future_is_refused_next_to_the_field(
    client, participant, typed, message
):
    response = log(client, participant, typed)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in html
    assert (
        f'<p id="id_held_on-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}</p>'
        in html
    )
    assert '<a href="#id_held_on">' in html  # the error summary links to the field
    assert not MentorCheckin.objects.exists()


def test_the_first_day_of_the_course_and_today_are_accepted(client, participant):
    assert log(client, participant, "7 9 2026").status_code == 302
    assert log(client, participant, "20 10 2026").status_code == 302
    assert sorted(MentorCheckin.objects.values_list("held_on", flat=True)) == [START, date(2026, 10, 20)]


def test_after_the_course_has_ended_its_last_day_is_the_latest_date(client, participant):
    end = participant.course.delivery_end
    with time_machine.travel(datetime(end.year, end.month, end.day, 9, tzinfo=LONDON) + timedelta(days=30)):
        response = log(client, participant, f"{(end + timedelta(days=1)):%d %m %Y}")
        assert f"must be the same as or before {end.day} {end:%B %Y}, when your course ended" in (
            response.content.decode()
        )
        assert log(client, participant, f"{end:%d %m %Y}").status_code == 302


def test_the_service_refuses_a_date_outside_the_course_too(participant):
    with pytest.raises(CheckinError, match="when your course started"):
        checkin_log(participant=participant, held_on=date(2020, 1, 1))
    assert not MentorCheckin.objects.exists()


def bad_checkin(participant, *, confirmed: bool = False) -> MentorCheckin:
    """A check-in logged before dates were checked (written straight to the database)."""
    now = timezone.now()
    return MentorCheckin.objects.create(
        participant=participant,
        held_on=date(2020, 1, 1),
        mentor_name="Mo Mentor",
        mentor_email="mo@school.example",
        token_hash="0" * 64,
        requested_at=now,
        expires_at=now + timedelta(days=30),
        confirmed_at=now if confirmed else None,
    )


def test_an_earlier_check_in_dated_outside_the_course_cannot_be_confirmed(
    client, participant, django_capture_on_commit_callbacks
):
    from engagement import checkins

    bad = bad_checkin(participant)
    token = "old-token"
    MentorCheckin.objects.filter(pk=bad.pk).update(token_hash=checkins._hash(token))
    with pytest.raises(CheckinError, match="outside the course"):
        checkin_confirm(token=token)
    response = client.get(reverse("checkin_confirm", args=[token]))
    assert response.status_code == 404 and "outside the course" in response.content.decode()
    assert client.post(reverse("checkin_confirm", args=[token])).status_code == 404
    bad.refresh_from_db()
    assert bad.confirmed_at is None
    # A good one logged now is confirmed and counts.
    with django_capture_on_commit_callbacks(execute=True):
        log(client, participant, "1 10 2026")
    path = re.search(r"https?://[^/]+(/check-ins/confirm/\S+/)", mail.outbox[-1].body).group(1)
    client.logout()
    assert "Check-in confirmed" in client.post(path).content.decode()


def test_a_confirmed_check_in_dated_outside_the_course_does_not_count(client, participant):
    bad_checkin(participant, confirmed=True)
    client.force_login(participant.user)
    html = client.get(reverse("enrolment", args=[participant.pk])).content.decode()
    assert "0 of 3 one-hour check-ins confirmed by your mentor" in html
    assert (
        '1 January 2020: <strong class="govuk-tag govuk-tag--grey">Not counted: outside your course dates'
        in html
    )
