"""Assessment reminders: a week before opening, 48 and 24 hours before closing, marking due."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from assessment.models import Entry
from assessment.reminders import assessment_closing, assessment_entries, assessment_opening, marking_due
from assessment.services import entry_for, markers_assign, submission_create, window_create
from engagement.models import EngagementTally
from notifications.models import Notification
from tests.factories import CourseFactory, GroupFactory, HubMembershipFactory, ParticipantFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


@pytest.fixture
def window():
    course = CourseFactory()
    group = GroupFactory(course=course)
    window = window_create(course=course, opens_on=date(2026, 6, 10))  # closes 23:59 BST on 17 June
    people = []
    for percent in (95, 95, 70):
        p = ParticipantFactory(group=group)
        EngagementTally.objects.create(
            participant=p,
            percent=Decimal(percent),
            done_weight=0,
            due_weight=1,
            on_track=percent >= 90,
            computed_at=datetime(2026, 6, 1, tzinfo=UTC),
        )
        people.append(p)
    return window, people


def run(job, moment, callbacks):
    with time_machine.travel(moment, tick=False), callbacks(execute=True):
        return job(moment.astimezone(ZoneInfo("Europe/London")).date())


def test_opening_reminder_a_week_before_to_those_on_track(window, django_capture_on_commit_callbacks):
    window, people = window
    assert (
        run(assessment_opening, datetime(2026, 6, 2, 9, tzinfo=UTC), django_capture_on_commit_callbacks) == 0
    )
    assert (
        run(assessment_opening, datetime(2026, 6, 3, 9, tzinfo=UTC), django_capture_on_commit_callbacks) == 2
    )
    assert (
        run(assessment_opening, datetime(2026, 6, 4, 9, tzinfo=UTC), django_capture_on_commit_callbacks) == 0
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.user.email for p in people[:2])


def test_entries_are_made_when_the_window_opens(window, django_capture_on_commit_callbacks):
    window, people = window
    assert (
        run(assessment_entries, datetime(2026, 6, 9, 9, tzinfo=UTC), django_capture_on_commit_callbacks) == 0
    )
    assert (
        run(assessment_entries, datetime(2026, 6, 10, 0, 5, tzinfo=UTC), django_capture_on_commit_callbacks)
        == 3
    )
    assert sorted(Entry.objects.values_list("access", flat=True)) == ["engagement", "engagement", "none"]


def test_closing_reminders_48_and_24_hours_before_only_to_those_who_have_not_submitted(
    window, django_capture_on_commit_callbacks
):
    window, people = window
    opening = datetime(2026, 6, 10, 9, tzinfo=UTC)
    entries = [entry_for(participant=p, now=opening) for p in people]
    submission_create(entry=entries[0], text="My response", now=opening)
    closes = window.closes_at
    assert (
        run(assessment_closing, closes - timedelta(hours=48, minutes=1), django_capture_on_commit_callbacks)
        == 0
    )
    assert run(assessment_closing, closes - timedelta(hours=47), django_capture_on_commit_callbacks) == 1
    assert run(assessment_closing, closes - timedelta(hours=30), django_capture_on_commit_callbacks) == 0
    assert run(assessment_closing, closes - timedelta(hours=23), django_capture_on_commit_callbacks) == 1
    assert run(assessment_closing, closes + timedelta(minutes=1), django_capture_on_commit_callbacks) == 0
    assert sorted(Notification.objects.values_list("occurrence", flat=True)) == ["24h", "48h"]
    assert {m.to[0] for m in mail.outbox} == {people[1].user.email}  # submitted: no reminder; no access: none


def test_marking_due_reminders_to_markers_with_scripts_left(window, django_capture_on_commit_callbacks):
    window, people = window
    opening = datetime(2026, 6, 10, 9, tzinfo=UTC)
    for p in people[:2]:
        submission_create(entry=entry_for(participant=p, now=opening), text="Response", now=opening)
    marker = HubMembershipFactory(hub=window.course.cohort.hub).user
    markers_assign(window=window, markers=[marker])
    due = window.marking_due_on
    assert due == date(2027, 1, 1)  # three months after delivery ends (1 October 2026)
    before = datetime.combine(due - timedelta(days=15), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    assert run(marking_due, before, django_capture_on_commit_callbacks) == 0
    assert run(marking_due, before + timedelta(days=1), django_capture_on_commit_callbacks) == 1
    assert run(marking_due, before + timedelta(days=2), django_capture_on_commit_callbacks) == 0
    assert run(marking_due, before + timedelta(days=12), django_capture_on_commit_callbacks) == 1
    assert mail.outbox[-1].to == [marker.email] and "2 NPQ scripts to mark" in mail.outbox[-1].subject
