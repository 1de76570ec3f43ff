"""Leaving a hub, or being deactivated, leaves no access behind: unmarked scripts go back to the
pool, group facilitation ends (in one transaction), and /marking/ and calendar feeds check
current hub membership and an active account at every request."""

from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import User
from accounts.services import user_deactivate
from assessment.models import MarkingAssignment
from assessment.services import (
    AssessmentError,
    entry_for,
    mark,
    markers_assign,
    moderation_sample,
    submission_create,
    window_create,
)
from engagement.models import CalendarFeed, EngagementTally
from engagement.services import calendar_feed_rotate
from programmes.models import HubMembership
from programmes.services import membership_end
from tests.factories import ActivityFactory, CourseFactory, GroupFactory, HubStaffFactory, ParticipantFactory
from tests.leaving_hub_support import membership, scripts_given_to_mia

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def scripts():
    return scripts_given_to_mia()


# --- Markers --------------------------------------------------------------------------------


def test_a_marker_removed_from_the_hub_loses_marking_and_her_unmarked_scripts_return_to_the_pool(
    client, scripts
):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    done, *pending = MarkingAssignment.objects.filter(marker=mia).order_by("pk")
    mark(assignment=done, by=mia, result="pass", feedback="Clear.")
    client.force_login(mia)
    assert client.get(reverse("marking_script", args=[pending[0].pk])).status_code == 200

    membership_end(membership=membership(mia, hub), by=max_)

    assert client.get(reverse("marking_list")).status_code == 404
    for assignment in (done, *pending):
        assert client.get(reverse("marking_script", args=[assignment.pk])).status_code == 404
        assert (
            client.post(
                reverse("marking_script", args=[assignment.pk]), {"result": "fail", "feedback": "x"}
            ).status_code
            == 404
        )
        assert client.get(reverse("marking_response_file", args=[assignment.pk])).status_code == 404
    # Her unmarked scripts are in the pool; the mark she gave stays hers.
    assert set(MarkingAssignment.objects.filter(marker__isnull=True)) == set(pending)
    done.refresh_from_db()
    assert done.marker == mia and done.result == "pass"
    # Staff see the pool and give it to someone else.
    staff = HubStaffFactory(hub=hub)
    client.force_login(staff)
    url = reverse("admin:assessment_window_manage", args=[window.pk])
    assert "2 scripts waiting for a marker" in client.get(url).content.decode()
    client.post(url, {"action": "assign", "markers": [max_.pk]})
    assert set(MarkingAssignment.objects.filter(marker=max_)) == set(pending)
    assert not MarkingAssignment.objects.filter(marker__isnull=True).exists()


def test_a_marker_who_left_one_hub_keeps_her_scripts_at_another(client, scripts):
    window, group, mia, max_ = scripts
    other_course = CourseFactory()
    other_window = window_create(course=other_course, opens_on=date(2026, 3, 24))
    HubMembership.objects.create(hub=other_course.cohort.hub, user=mia, role="hub_admin")
    participant = ParticipantFactory(group=GroupFactory(course=other_course))
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal(100),
        done_weight=1,
        due_weight=1,
        on_track=True,
        computed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    entry = entry_for(participant=participant, now=datetime(2026, 3, 24, 9, tzinfo=UTC))
    submission_create(entry=entry, text="word " * 10, now=datetime(2026, 3, 25, 9, tzinfo=UTC))
    markers_assign(window=other_window, markers=[mia])
    elsewhere = MarkingAssignment.objects.get(entry=entry)

    membership_end(membership=membership(mia, window.course.cohort.hub), by=None)

    elsewhere.refresh_from_db()
    assert elsewhere.marker == mia
    client.force_login(mia)
    assert list(client.get(reverse("marking_list")).context["assignments"]) == [elsewhere]
    assert client.get(reverse("marking_script", args=[elsewhere.pk])).status_code == 200


def test_marking_checks_current_membership_even_when_the_cleanup_was_missed(client, scripts):
    """Defence in depth: a membership deleted behind the services' back still closes /marking/."""
    window, group, mia, max_ = scripts
    assignment = MarkingAssignment.objects.filter(marker=mia).first()
    HubMembership.objects.filter(user=mia).delete()  # bypasses membership_end
    client.force_login(mia)
    assert client.get(reverse("marking_list")).status_code == 404
    assert client.get(reverse("marking_script", args=[assignment.pk])).status_code == 404
    assert client.get(reverse("marking_response_file", args=[assignment.pk])).status_code == 404
    with pytest.raises(AssessmentError, match="current staff"):
        mark(assignment=assignment, by=mia, result="pass", feedback="Too late")
    # Not a member, so she cannot be given scripts either.
    with pytest.raises(AssessmentError, match="not on the staff"):
        markers_assign(window=window, markers=[mia])


def test_an_inactive_marker_cannot_mark_even_if_her_scripts_were_not_returned(scripts):
    window, group, mia, max_ = scripts
    assignment = MarkingAssignment.objects.filter(marker=mia).first()
    User.objects.filter(pk=mia.pk).update(is_active=False)  # bypasses user_deactivate
    mia.refresh_from_db()
    with pytest.raises(AssessmentError, match="current staff"):
        mark(assignment=assignment, by=mia, result="pass", feedback="Too late")


def test_a_moderator_who_leaves_hands_moderation_back_to_the_pool(scripts):
    window, group, mia, max_ = scripts
    for assignment in MarkingAssignment.objects.filter(marker=mia):
        mark(assignment=assignment, by=mia, result="fail", feedback="Not yet.")
    moderation_sample(window=window, moderator=max_)
    assert MarkingAssignment.objects.filter(role="moderation", marker=max_).count() == 3
    membership_end(membership=membership(max_, window.course.cohort.hub), by=None)
    assert MarkingAssignment.objects.filter(role="moderation", marker__isnull=True).count() == 3
    newcomer = HubStaffFactory(hub=window.course.cohort.hub)
    assert moderation_sample(window=window, moderator=newcomer) == 3
    assert MarkingAssignment.objects.filter(role="moderation", marker=newcomer).count() == 3


def test_pooled_scripts_never_go_to_someone_who_already_marked_them(scripts):
    window, group, mia, max_ = scripts
    for assignment in MarkingAssignment.objects.filter(marker=mia):
        mark(assignment=assignment, by=mia, result="fail", feedback="Not yet.")
    moderation_sample(window=window, moderator=max_)
    membership_end(membership=membership(max_, window.course.cohort.hub), by=None)
    # Mia marked these scripts first, so she cannot be their moderator: they stay in the pool.
    assert markers_assign(window=window, markers=[mia]) == 0
    assert MarkingAssignment.objects.filter(role="moderation", marker__isnull=True).count() == 3


# --- Facilitators and calendar feeds ---------------------------------------------------------


@pytest.fixture
def facilitated():
    group = GroupFactory(venue="Northfield Teaching School Hub, Room 4")
    ActivityFactory(
        group=group, title="Module 1 seminar", starts_at=datetime(2025, 11, 5, 16, 0, tzinfo=LONDON)
    )
    fran = HubStaffFactory(hub=group.course.cohort.hub, hub__role="facilitator")
    group.facilitators.add(fran)
    token = calendar_feed_rotate(user=fran).token
    with time_machine.travel(datetime(2025, 10, 20, 9, 0, tzinfo=LONDON), tick=False):
        yield group, fran, token


def test_a_deactivated_facilitator_s_feed_serves_nothing_and_her_facilitation_ends(client, facilitated):
    group, fran, token = facilitated
    url = reverse("calendar_feed", args=[token])
    assert "Module 1 seminar" in client.get(url).content.decode()

    user_deactivate(user=fran, by=None)

    response = client.get(url)
    assert response.status_code in (404, 410)
    body = response.content.decode()
    assert "Module 1 seminar" not in body and "Room 4" not in body and "BEGIN:VCALENDAR" not in body
    fran.refresh_from_db()
    assert not fran.is_active
    assert not group.facilitators.exists()
    assert not CalendarFeed.objects.filter(user=fran).exists()


def test_a_feed_checks_the_account_is_active_even_when_the_cleanup_was_missed(client, facilitated):
    group, fran, token = facilitated
    User.objects.filter(pk=fran.pk).update(is_active=False)  # bypasses user_deactivate
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response.status_code == 404
    assert b"Module 1 seminar" not in response.content and fran.full_name.encode() not in response.content


def test_a_facilitator_who_left_the_hub_no_longer_sees_its_sessions(client, facilitated):
    group, fran, token = facilitated
    HubMembership.objects.filter(user=fran).delete()  # bypasses membership_end: facilitation left behind
    assert group.facilitators.filter(pk=fran.pk).exists()
    body = client.get(reverse("calendar_feed", args=[token])).content.decode()
    assert "Module 1 seminar" not in body and "Room 4" not in body


def test_leaving_the_hub_ends_its_group_facilitation_only(client, facilitated):
    group, fran, token = facilitated
    elsewhere = GroupFactory()
    ActivityFactory(group=elsewhere, title="Other hub seminar")
    HubMembership.objects.create(hub=elsewhere.course.cohort.hub, user=fran, role="facilitator")
    elsewhere.facilitators.add(fran)

    membership_end(membership=membership(fran, group.course.cohort.hub), by=None)

    assert not group.facilitators.exists()
    assert list(elsewhere.facilitators.all()) == [fran]
    body = client.get(reverse("calendar_feed", args=[token])).content.decode()
    assert "Other hub seminar" in body and "Module 1 seminar" not in body


# --- One transaction ---------------------------------------------------------------------------


def test_a_failure_part_way_leaves_nothing_half_done(scripts):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    group.facilitators.add(mia)
    with (
        mock.patch("assessment.receivers.marking_return_to_pool", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        membership_end(membership=membership(mia, hub), by=None)
    assert HubMembership.objects.filter(user=mia, hub=hub).exists()
    assert list(group.facilitators.all()) == [mia]
    assert MarkingAssignment.objects.filter(marker=mia).count() == 3
    with (
        mock.patch("assessment.receivers.marking_return_to_pool", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        user_deactivate(user=mia, by=None)
    mia.refresh_from_db()
    assert mia.is_active
    assert list(group.facilitators.all()) == [mia]
    assert MarkingAssignment.objects.filter(marker=mia).count() == 3
