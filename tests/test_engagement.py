"""Engagement tallies: weighting, excused absences, nothing due yet, withdrawals, reruns, scale."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from engagement.models import Attendance, EngagementTally, Register
from engagement.services import register_save
from engagement.tally import distribution, tally_course
from programmes.services import participant_withdraw
from tests.conftest import need
from tests.factories import LONDON, ActivityFactory, GroupFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2025, 12, 1)


def session(group, day, weight=1, **kwargs):
    return ActivityFactory(
        group=group,
        weight=weight,
        starts_at=datetime(day.year, day.month, day.day, 16, tzinfo=LONDON),
        **kwargs,
    )


def task(course, day, weight=1, group=None):
    return ActivityFactory(
        group=group, course=course, weight=weight, starts_at=None, ends_at=None, due_on=day
    )


def mark(participant, activity, status):
    """A mark as a register writes it (attended, absent, excused: the register of the
    participant's group is then taken) or an LMS import does (completed)."""
    Attendance.objects.update_or_create(
        participant=participant, activity=activity, defaults={"status": status}
    )
    if status != "completed":
        Register.objects.get_or_create(
            activity=activity, group=participant.group, defaults={"taken_at": timezone.now()}
        )


def tally_of(participant) -> EngagementTally:
    return EngagementTally.objects.get(participant=participant)


@pytest.fixture
def course_setup():
    group = GroupFactory()
    course = group.course
    p = ParticipantFactory(group=group)
    seminar = session(group, date(2025, 11, 5))  # weight 1
    diagnostic = task(course, date(2025, 11, 10), weight=3)  # course-wide, weight 3
    reflection = task(course, date(2025, 11, 20), weight=2)
    future = session(group, date(2026, 1, 15), weight=4)  # not due yet
    return group, course, p, seminar, diagnostic, reflection, future


def test_weighted_share_of_required_activities_due_so_far(course_setup):
    group, course, p, seminar, diagnostic, reflection, future = course_setup
    mark(p, seminar, "attended")
    mark(p, diagnostic, "completed")
    mark(p, reflection, "absent")
    mark(p, future, "completed")  # done early: counts in the projection, not yet in the percent
    tally_course(course_id=course.pk, today=TODAY)
    t = tally_of(p)
    assert (t.done_weight, t.due_weight, t.percent) == (Decimal(4), Decimal(6), Decimal("66.67"))
    assert t.projected_percent == Decimal("80.00")  # (4 + 4) / (6 + 4)
    assert t.on_track is False


def test_excused_absences_leave_both_sides(course_setup):
    group, course, p, seminar, diagnostic, reflection, future = course_setup
    mark(p, seminar, "attended")
    mark(p, diagnostic, "completed")
    mark(p, reflection, "excused")
    tally_course(course_id=course.pk, today=TODAY)
    t = tally_of(p)
    assert (t.done_weight, t.due_weight, t.percent, t.on_track) == (
        Decimal(4),
        Decimal(4),
        Decimal("100.00"),
        True,
    )


def test_not_required_or_not_counted_or_other_groups_activities_are_left_out(course_setup):
    group, course, p, seminar, diagnostic, reflection, future = course_setup
    session(group, date(2025, 11, 6), weight=5, required=False)
    session(group, date(2025, 11, 7), weight=5, counts_towards_engagement=False)
    session(GroupFactory(course=course), date(2025, 11, 8), weight=5)  # another group's session
    mark(p, seminar, "attended")
    tally_course(course_id=course.pk, today=TODAY)
    assert tally_of(p).due_weight == Decimal(6)


def test_nothing_due_yet_is_not_started_not_a_division_by_zero(course_setup):
    group, course, p, *_ = course_setup
    tally_course(course_id=course.pk, today=date(2025, 10, 1))
    t = tally_of(p)
    assert t.percent is None and t.due_weight == 0 and t.on_track is True
    assert t.projected_percent == Decimal("100.00")


def test_session_today_counts_as_due_in_london_time(course_setup):
    group, course, p, *_ = course_setup
    late = ActivityFactory(group=group, weight=1, starts_at=datetime(2025, 10, 1, 23, 30, tzinfo=LONDON))
    mark(p, late, "absent")  # its register taken
    tally_course(course_id=course.pk, today=date(2025, 10, 1))  # 23:30 BST is 22:30 UTC on the same day
    assert tally_of(p).due_weight == Decimal(1)
    assert late.pk


def test_withdrawn_participants_are_excluded(course_setup):
    group, course, p, seminar, *_ = course_setup
    other = ParticipantFactory(group=group)
    tally_course(course_id=course.pk, today=TODAY)
    assert EngagementTally.objects.count() == 2
    participant_withdraw(participant=other, reason="other")
    tally_course(course_id=course.pk, today=TODAY)
    assert list(EngagementTally.objects.values_list("participant", flat=True)) == [p.pk]


def test_rerunning_changes_nothing(course_setup):
    group, course, p, seminar, *_ = course_setup
    mark(p, seminar, "attended")
    tally_course(course_id=course.pk, today=TODAY)
    first = list(
        EngagementTally.objects.values("participant", "percent", "done_weight", "due_weight", "on_track")
    )
    assert tally_course(course_id=course.pk, today=TODAY) == 1
    again = list(
        EngagementTally.objects.values("participant", "percent", "done_weight", "due_weight", "on_track")
    )
    assert first == again and EngagementTally.objects.count() == 1


def test_the_tally_is_set_based(course_setup, django_assert_max_num_queries):
    group, course, p, seminar, diagnostic, *_ = course_setup
    group.capacity = 100
    group.save()
    for _ in range(30):
        other = ParticipantFactory(group=group)
        mark(other, seminar, "attended")
        mark(other, diagnostic, "completed")
    # savepoint, lock and work_mem (PostgreSQL), the statement, work_mem put back, clean-up,
    # release: never per participant
    with django_assert_max_num_queries(6):
        assert tally_course(course_id=course.pk, today=TODAY) == 31


def test_saving_registers_queues_one_tally_per_burst(
    course_setup, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from engagement.tasks import tally_course_task

    group, course, p, seminar, diagnostic, reflection, future = course_setup
    settings.TALLY_DEBOUNCE_SECONDS = 30
    queued = []
    monkeypatch.setattr(
        tally_course_task, "apply_async", lambda args, countdown: queued.append((args, countdown))
    )
    staff = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        register_save(activity=seminar, marks={p.pk: "attended"}, by=staff)
        assert queued == []  # nothing is queued before the marks are committed
    assert queued == [([course.pk], 30)]
    with django_capture_on_commit_callbacks(execute=True):
        register_save(activity=seminar, marks={p.pk: "absent"}, by=staff)
        register_save(activity=diagnostic, marks={p.pk: "attended"}, by=staff)
    assert queued == [([course.pk], 30)]  # the rest of the burst joins the queued run
    # Once that run starts, the next change queues another.
    tally_course_task.run(course.pk, TODAY.isoformat())
    with django_capture_on_commit_callbacks(execute=True):
        register_save(activity=seminar, marks={p.pk: "attended"}, by=staff)
    assert queued == [([course.pk], 30), ([course.pk], 30)]
    assert tally_of(p).done_weight == Decimal(3)  # the run in between saw the committed marks


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_tally_task_runs_on_a_real_worker(celery_worker_process):
    from engagement.tasks import tally_course_task

    group = GroupFactory()
    p = ParticipantFactory(group=group)
    seminar = session(group, date(2025, 11, 5))
    mark(p, seminar, "attended")
    result = tally_course_task.apply_async(
        args=[group.course_id, TODAY.isoformat()], queue=celery_worker_process["queue"]
    )
    assert result.get(timeout=60) == 1
    assert tally_of(p).percent == Decimal("100.00")


def test_exactly_90_percent_is_on_track_and_just_below_is_not():
    group = GroupFactory()
    on, below = ParticipantFactory(group=group), ParticipantFactory(group=group)
    big = session(group, date(2025, 11, 1), weight="10.00")
    small = session(group, date(2025, 11, 2), weight="1.11")
    mark(on, big, "attended")
    mark(below, big, "attended")
    mark(on, small, "excused")
    remainder = session(group, date(2025, 11, 3), weight="0.01")
    small.weight = Decimal("1.10")
    small.save()
    mark(below, remainder, "attended")
    tally_course(course_id=group.course_id, today=TODAY)
    # on: 10 / (10 + 0.01) = 99.90%; below: 10.01 / 11.11 = 90.10%... both on track;
    assert tally_of(on).on_track and tally_of(below).on_track
    group2 = GroupFactory()
    p9, p8 = ParticipantFactory(group=group2), ParticipantFactory(group=group2)
    nine = session(group2, date(2025, 11, 1), weight=9)
    one = session(group2, date(2025, 11, 2), weight=1)
    mark(p9, nine, "attended")
    mark(p8, nine, "attended")
    mark(p8, one, "absent")
    mark(p9, one, "absent")
    heavier = session(group2, date(2025, 11, 3), weight="0.01")
    mark(p9, heavier, "excused")
    mark(p8, heavier, "absent")
    tally_course(course_id=group2.course_id, today=TODAY)
    assert (tally_of(p9).percent, tally_of(p9).on_track) == (Decimal("90.00"), True)
    assert (tally_of(p8).percent, tally_of(p8).on_track) == (Decimal("89.91"), False)


def test_distribution_bands():
    assert distribution([Decimal(0), Decimal("9.99"), Decimal(50), Decimal(100), None]) == [
        2,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        1,
    ]


def test_the_nightly_job_tallies_every_course_in_one_statement(django_assert_max_num_queries):
    from engagement.tasks import tally_all_courses

    participants = []
    for _ in range(3):
        group = GroupFactory()
        participant = ParticipantFactory(group=group)
        mark(participant, session(group, date(2025, 11, 5)), "attended")
        participants.append(participant)
    # Course ids, then one tally for all of them (work_mem put back after it); and the job run
    # recorded (row, lock, unlock, save).
    with django_assert_max_num_queries(11):
        assert tally_all_courses.run(TODAY.isoformat()) == 3
    assert all(tally_of(p).percent == Decimal("100.00") for p in participants)


def test_a_tally_left_without_counted_activities_is_removed(course_setup):
    group, course, p, seminar, diagnostic, reflection, future = course_setup
    tally_course(course_id=course.pk, today=TODAY)
    course.activities.update(counts_towards_engagement=False)
    tally_course(course_id=course.pk, today=TODAY)
    assert not EngagementTally.objects.filter(participant=p).exists()  # shown as "not started"


def test_the_tally_puts_back_the_memory_it_asked_for(course_setup):
    """PostgreSQL: the tally's statement runs with TALLY_WORK_MEM (no spill to disk at scale);
    the rest of the transaction has the setting it had."""
    from django.db import connection

    group, course, *_ = course_setup
    need(connection.vendor == "postgresql", "PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', '5MB', true)")
        tally_course(course_id=course.pk, today=TODAY)
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == "5MB"
