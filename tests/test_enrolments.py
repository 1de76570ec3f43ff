"""Enrolment status changes go through services; the database guards the invariants."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from programmes.models import Group, Participant
from programmes.services import (
    EnrolmentError,
    participant_defer,
    participant_enrol,
    participant_move_group,
    participant_resume,
    participant_withdraw,
)
from tests.factories import GroupFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_enrolling_takes_a_place_and_a_full_group_refuses_more():
    group = GroupFactory(capacity=2)
    ParticipantFactory(group=group)
    ParticipantFactory(group=group)
    group.refresh_from_db()
    assert group.enrolled == 2
    with pytest.raises(EnrolmentError, match="is full"):
        participant_enrol(user=UserFactory(), course=group.course, group=group)
    assert Participant.objects.filter(group=group).count() == 2


def test_the_database_itself_refuses_to_exceed_capacity():
    group = GroupFactory(capacity=1)
    ParticipantFactory(group=group)
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.filter(pk=group.pk).update(enrolled=2)


def test_one_live_enrolment_per_user_per_course():
    participant = ParticipantFactory()
    with pytest.raises(EnrolmentError, match="already enrolled"):
        participant_enrol(user=participant.user, course=participant.course, group=participant.group)
    # The partial unique index holds even if a service is bypassed.
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(user=participant.user, course=participant.course)
    # After a withdrawal, the same person may enrol again.
    participant_withdraw(participant=participant, reason="started-in-error")
    again = participant_enrol(user=participant.user, course=participant.course, group=participant.group)
    assert again.status == Participant.Status.ACTIVE


def test_defer_and_resume_keep_the_place_and_record_who_and_when():
    staff = UserFactory()
    participant = ParticipantFactory()
    participant_defer(participant=participant, reason="parental-leave", on=date(2026, 1, 5), by=staff)
    participant.refresh_from_db()
    assert (participant.status, participant.status_reason, participant.status_changed_on) == (
        "deferred",
        "parental-leave",
        date(2026, 1, 5),
    )
    assert Group.objects.get(pk=participant.group_id).enrolled == 1
    participant_resume(participant=participant, on=date(2026, 6, 1), by=staff)
    participant.refresh_from_db()
    assert participant.status == "active" and participant.status_reason == ""
    history = list(participant.history.order_by("history_date").values_list("status", "history_user"))
    assert history == [("active", None), ("deferred", staff.pk), ("active", staff.pk)]


def test_withdrawal_needs_a_dfe_reason_and_frees_the_place():
    participant = ParticipantFactory()
    with pytest.raises(EnrolmentError, match="reason for withdrawal"):
        participant_withdraw(participant=participant, reason="bored")
    participant_withdraw(participant=participant, reason="personal-reason-moving-school")
    participant.refresh_from_db()
    assert participant.status == "withdrawn"
    assert Group.objects.get(pk=participant.group_id).enrolled == 0


@pytest.mark.parametrize(
    ("setup", "change", "message"),
    [
        ("withdrawn", lambda p: participant_defer(participant=p, reason="other"), "Only an active"),
        ("active", lambda p: participant_resume(participant=p), "Only a deferred"),
        ("withdrawn", lambda p: participant_withdraw(participant=p, reason="other"), "cannot be withdrawn"),
        ("active", lambda p: participant_defer(participant=p, reason="holiday"), "reason for deferral"),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(setup, change, message):
    participant = ParticipantFactory()
    if setup == "withdrawn":
        participant_withdraw(participant=participant, reason="other")
    before = participant.history.count()
    with pytest.raises(EnrolmentError, match=message):
        change(participant)
    assert participant.history.count() == before


def test_moving_group_within_the_course_moves_the_place():
    participant = ParticipantFactory()
    other = GroupFactory(course=participant.course, capacity=1)
    participant_move_group(participant=participant, group=other)
    participant.refresh_from_db()
    assert participant.group == other
    assert Group.objects.get(pk=other.pk).enrolled == 1
    assert Group.objects.exclude(pk=other.pk).get(course=participant.course).enrolled == 0


def test_moving_to_a_full_group_or_another_course_is_refused():
    participant = ParticipantFactory()
    full = GroupFactory(course=participant.course, capacity=1)
    ParticipantFactory(group=full)
    with pytest.raises(EnrolmentError, match="is full"):
        participant_move_group(participant=participant, group=full)
    with pytest.raises(EnrolmentError, match="not a group of this participant's course"):
        participant_move_group(participant=participant, group=GroupFactory())
    participant.refresh_from_db()
    assert Group.objects.get(pk=participant.group_id).enrolled == 1
