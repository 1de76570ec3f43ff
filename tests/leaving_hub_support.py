"""Helpers shared by the leaving-a-hub tests (tests/test_leaving_hub*.py)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from assessment.services import entry_for, markers_assign, submission_create, window_create
from engagement.models import EngagementTally
from programmes.models import HubMembership
from tests.factories import CourseFactory, GroupFactory, HubStaffFactory, ParticipantFactory

UTC = ZoneInfo("UTC")


def scripts_given_to_mia():
    """A window with three submitted scripts given to Mia (marker) at hub A; Max is also staff."""
    course = CourseFactory()
    group = GroupFactory(course=course, capacity=10)
    window = window_create(course=course, opens_on=date(2026, 3, 24), case_study_text="A case.")
    hub = course.cohort.hub
    mia = HubStaffFactory(hub=hub, email="mia@hub.example")
    max_ = HubStaffFactory(hub=hub, email="max@hub.example")
    for i in range(3):
        participant = ParticipantFactory(group=group, trn=f"{4000000 + i}")
        EngagementTally.objects.create(
            participant=participant,
            percent=Decimal(95),
            done_weight=1,
            due_weight=1,
            on_track=True,
            computed_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        entry = entry_for(participant=participant, now=datetime(2026, 3, 24, 9, tzinfo=UTC))
        submission_create(entry=entry, text="word " * 50, now=datetime(2026, 3, 25, 9, tzinfo=UTC))
    assert markers_assign(window=window, markers=[mia]) == 3
    return window, group, mia, max_


def membership(user, hub) -> HubMembership:
    return HubMembership.objects.get(user=user, hub=hub)
