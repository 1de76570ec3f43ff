"""Moving the engagement models from programmes to engagement loses no row (decisions.md, 41).

The database is taken back to the schema before the move (programmes 0008), filled through that
schema's own models, then migrated forward: every row must arrive in engagement's models, and
the permissions granted on the old models must still be granted on the new ones.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group as RoleGroup
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from engagement.models import Activity, Attendance, CalendarFeed, EngagementTally, MentorCheckin, Register
from tests.factories import GroupFactory, ParticipantFactory, UserFactory

BEFORE = [("programmes", "0008_participant_trn_index")]
WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_engagement_row_arrives_in_the_engagement_app():
    group = GroupFactory()
    participants = [ParticipantFactory(course=group.course, group=group) for _ in range(3)]
    marker = UserFactory()

    old = migrate(BEFORE)
    OldActivity = old.get_model("programmes", "Activity")
    OldAttendance = old.get_model("programmes", "Attendance")
    OldHistoricalAttendance = old.get_model("programmes", "HistoricalAttendance")
    OldRegister = old.get_model("programmes", "Register")
    OldCalendarFeed = old.get_model("programmes", "CalendarFeed")
    OldTally = old.get_model("programmes", "EngagementTally")
    OldCheckin = old.get_model("programmes", "MentorCheckin")
    OldContentType = old.get_model("contenttypes", "ContentType")
    OldPermission = old.get_model("auth", "Permission")
    OldRoleGroup = old.get_model("auth", "Group")

    # Before: the models are programmes' (content types included), and a role holds a permission on one.
    activity_type = OldContentType.objects.get(app_label="programmes", model="activity")
    role = OldRoleGroup.objects.create(name="Moved-permission holders")
    role.permissions.add(OldPermission.objects.get(content_type=activity_type, codename="change_activity"))

    session = OldActivity.objects.create(
        course_id=group.course_id, group_id=group.pk, code="seminar-1", kind="seminar",
        title="Seminar 1", starts_at=WHEN, weight=Decimal("2.00"),
    )  # fmt: skip
    task = OldActivity.objects.create(
        course_id=group.course_id, code="reflection-1", kind="formative_reflection",
        title="Reflection 1", due_on=date(2026, 3, 9), imported_on=date(2026, 3, 10),
    )  # fmt: skip
    marks = []
    for i, participant in enumerate(participants):
        mark = OldAttendance.objects.create(
            participant_id=participant.pk, activity=session, status="attended" if i else "absent",
            recorded_by_id=marker.pk,
        )  # fmt: skip
        marks.append(mark)
        OldHistoricalAttendance.objects.create(
            id=mark.pk, participant_id=participant.pk, activity_id=session.pk, status=mark.status,
            recorded_by_id=marker.pk, recorded_at=WHEN, history_date=WHEN, history_type="+",
            history_user_id=marker.pk,
        )  # fmt: skip
        OldTally.objects.create(
            participant_id=participant.pk, percent=Decimal(100 * i // 2), done_weight=Decimal(2 * i),
            due_weight=Decimal(4), awaiting_weight=Decimal(0), projected_percent=Decimal(95),
            on_track=bool(i), computed_at=WHEN,
        )  # fmt: skip
    OldRegister.objects.create(activity=session, group_id=group.pk, taken_by_id=marker.pk, taken_at=WHEN)
    OldCalendarFeed.objects.create(user_id=participants[0].user_id, token="feed-token-1")
    OldCheckin.objects.create(
        participant_id=participants[1].pk, held_on=date(2026, 3, 3), notes="Talked about reading.",
        mentor_name="Mo Mentor", mentor_email="mo@school.example", token_hash="a" * 64,
        requested_at=WHEN, expires_at=WHEN, confirmed_at=WHEN,
    )  # fmt: skip

    migrate(latest())

    # After: every row, with its values, through engagement's models.
    assert set(Activity.objects.values_list("pk", "code", "group_id", "weight", "imported_on")) == {
        (session.pk, "seminar-1", group.pk, Decimal("2.00"), None),
        (task.pk, "reflection-1", None, Decimal("1.00"), date(2026, 3, 10)),
    }
    assert set(Attendance.objects.values_list("pk", "participant_id", "activity_id", "status")) == {
        (m.pk, m.participant_id, session.pk, m.status) for m in marks
    }
    assert Attendance.history.count() == 3
    assert set(Attendance.history.values_list("history_user_id", flat=True)) == {marker.pk}
    assert Register.objects.get().taken_by_id == marker.pk
    assert CalendarFeed.objects.get().user_id == participants[0].user_id
    assert EngagementTally.objects.filter(on_track=False).count() == 1
    assert EngagementTally.objects.get(participant=participants[2]).percent == Decimal(100)
    # engagement 0002: each tally says its participant's course.
    assert set(EngagementTally.objects.values_list("course_id", flat=True)) == {group.course_id}
    checkin = MentorCheckin.objects.get()
    assert (checkin.participant_id, checkin.notes) == (participants[1].pk, "Talked about reading.")

    # The permission granted on programmes' Activity is now the same permission on engagement's.
    moved = Permission.objects.get(content_type__app_label="engagement", codename="change_activity")
    assert moved.pk in set(RoleGroup.objects.get(name=role.name).permissions.values_list("pk", flat=True))
    assert not Permission.objects.filter(
        content_type__app_label="programmes", codename="change_activity"
    ).exists()
