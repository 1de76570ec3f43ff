"""Each participant and facilitator has a secret iCalendar address of their sessions and deadlines."""

from datetime import date, datetime

import icalendar
import pytest
import time_machine
from django.urls import reverse

from engagement.services import calendar_feed_rotate
from programmes.services import participant_withdraw, sync_staff_access
from tests.factories import LONDON, ActivityFactory, GroupFactory, HubStaffFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _during_the_course():
    with time_machine.travel(datetime(2025, 10, 20, 9, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def course_with_two_groups():
    group = GroupFactory(venue="Northfield Teaching School Hub, Room 4")
    other = GroupFactory(course=group.course)
    winter = ActivityFactory(
        group=group, title="Module 1 seminar", starts_at=datetime(2025, 11, 5, 16, 0, tzinfo=LONDON)
    )
    summer = ActivityFactory(
        group=group, title="Module 4 seminar", starts_at=datetime(2026, 6, 10, 16, 0, tzinfo=LONDON)
    )
    deadline = ActivityFactory(
        group=None,
        course=group.course,
        title="Module 1 reflection",
        kind="formative_reflection",
        starts_at=None,
        due_on=date(2025, 12, 1),
    )
    elsewhere = ActivityFactory(group=other, title="Other group's seminar")
    return group, other, winter, summer, deadline, elsewhere


def feed(client, user) -> str:
    token = calendar_feed_rotate(user=user).token
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content.decode()


def test_participant_feed_has_their_sessions_and_deadlines_only(client, course_with_two_groups):
    group, other, winter, summer, deadline, elsewhere = course_with_two_groups
    participant = ParticipantFactory(group=group)
    body = feed(client, participant.user)
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 3
    assert "Other group's seminar" not in body
    # 16:00 in London is 16:00 UTC in November and 15:00 UTC in June (British Summer Time).
    assert (
        f"UID:activity-{winter.pk}@testserver\r\nDTSTAMP:20251020T080000Z\r\nDTSTART:20251105T160000Z" in body
    )
    assert "DTSTART:20260610T150000Z" in body
    assert "DTSTART;VALUE=DATE:20251201\r\nDTEND;VALUE=DATE:20251202" in body
    assert "LOCATION:Northfield Teaching School Hub\\, Room 4" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_withdrawn_participant_feed_is_empty(client, course_with_two_groups):
    group, *_ = course_with_two_groups
    participant = ParticipantFactory(group=group)
    assert feed(client, participant.user).count("BEGIN:VEVENT") == 3
    participant_withdraw(participant=participant, reason="other")
    assert "BEGIN:VEVENT" not in feed(client, participant.user)


def test_facilitator_feed_has_their_groups_sessions(client, course_with_two_groups):
    group, other, winter, summer, deadline, elsewhere = course_with_two_groups
    facilitator = HubStaffFactory(hub=other.course.cohort.hub, hub__role="facilitator")
    other.facilitators.add(facilitator)
    sync_staff_access(user=facilitator)
    body = feed(client, facilitator)
    assert "Other group's seminar" in body and "Module 1 reflection" in body
    assert "Module 1 seminar" not in body


def test_past_sessions_drop_out_of_the_feed_after_90_days(client, course_with_two_groups):
    group, *_ = course_with_two_groups
    participant = ParticipantFactory(group=group)
    with time_machine.travel(datetime(2026, 3, 15, 9, 0, tzinfo=LONDON), tick=False):
        body = feed(client, participant.user)
    assert "Module 4 seminar" in body and "Module 1 seminar" not in body


def test_unknown_or_replaced_address_is_404(client, course_with_two_groups):
    group, *_ = course_with_two_groups
    participant = ParticipantFactory(group=group)
    old = calendar_feed_rotate(user=participant.user).token
    new = calendar_feed_rotate(user=participant.user).token
    assert old != new
    assert client.get(reverse("calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("calendar_feed", args=["guess"])).status_code == 404
    assert client.get(reverse("calendar_feed", args=[new])).status_code == 200


def test_calendar_page_creates_and_replaces_the_address(client, course_with_two_groups):
    group, *_ = course_with_two_groups
    participant = ParticipantFactory(group=group)
    assert client.get(reverse("calendar")).status_code == 302  # sign in first
    client.force_login(participant.user)
    assert "Create my calendar address" in client.get(reverse("calendar")).content.decode()
    assert client.get(reverse("calendar_rotate")).status_code == 405  # POST only
    client.post(reverse("calendar_rotate"))
    token = participant.user.calendar_feed.token
    assert token in client.get(reverse("calendar")).content.decode()


# Typed by people (a session title, a group's venue, a participant's name): every line break
# (CR, LF, CRLF) followed by a property, the characters iCalendar escapes, a long run of
# multi-byte characters that must be folded without splitting one.
HOSTILE = "Evil\rCR\nLF\r\nATTENDEE:mailto:attacker@example.org; a, b \\ c\\n 😀"
HOSTILE = (HOSTILE + "é😀" * 100)[:200]  # the longest title or venue the portal stores
EVENT_PROPERTIES = {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION"}


def as_parsed(text: str) -> str:
    """iCalendar has one line break (`\\n`): CR and CRLF come back as LF, the rest unchanged."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_hostile_titles_and_venues_round_trip_and_add_no_property(client):
    assert len(HOSTILE) == 200
    group = GroupFactory(venue=HOSTILE)
    session = ActivityFactory(group=group, title=HOSTILE)
    deadline = ActivityFactory(
        group=group, title=HOSTILE, kind="formative_reflection", starts_at=None, due_on=date(2025, 12, 1)
    )
    participant = ParticipantFactory(group=group, user__full_name=HOSTILE)
    body = feed(client, participant.user)

    # On the wire: only CRLF ends a line, every line is at most 75 octets, and every line is
    # either a continuation (leading space) or starts with a property the portal writes.
    assert "\r" not in body.replace("\r\n", "")
    assert "\n" not in body.replace("\r\n", "")
    physical = body.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    names = {line.split(":")[0].split(";")[0] for line in physical if not line.startswith(" ")}
    assert (
        names
        == {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME"} | EVENT_PROPERTIES
    )

    calendar = icalendar.Calendar.from_ical(body)
    assert set(calendar) == {"VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME"}
    # An X- property is not known to be TEXT, so the parser hands it back still escaped.
    calendar_name = icalendar.vText(f"NPQ Portal: {HOSTILE}").to_ical().decode()
    assert str(calendar["X-WR-CALNAME"]) == calendar_name
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {f"activity-{session.pk}@testserver", f"activity-{deadline.pk}@testserver"}
    code = group.course.programme.code
    for activity, summary in ((session, f"{code}: {HOSTILE}"), (deadline, f"{code} deadline: {HOSTILE}")):
        event = events[f"activity-{activity.pk}@testserver"]
        assert set(event) == EVENT_PROPERTIES
        assert event.subcomponents == []
        assert str(event["SUMMARY"]) == as_parsed(summary)
        assert str(event["LOCATION"]) == as_parsed(HOSTILE)
    assert not [component for component in calendar.walk() if "ATTENDEE" in component]
    assert events[f"activity-{deadline.pk}@testserver"].decoded("DTSTART") == date(2025, 12, 1)


def test_control_characters_that_icalendar_text_forbids_are_dropped(client):
    group = GroupFactory(venue="Room\x01 4\x0b\x1b")
    ActivityFactory(group=group, title="Module\x07 1\tseminar")
    participant = ParticipantFactory(group=group)
    event = icalendar.Calendar.from_ical(feed(client, participant.user)).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Room 4"
    assert str(event["SUMMARY"]).endswith(": Module 1\tseminar")
