"""LMS completion exports: matched by email or TRN and activity code, bad lines reported, one transaction."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from engagement.lms_import import import_lms_completions
from engagement.models import Activity, Attendance
from funding.imports import MalformedFile
from programmes.models import Participant
from programmes.selectors import visible_to
from tests.factories import ActivityFactory, GroupFactory, HubStaffFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    group = GroupFactory()
    alice = ParticipantFactory(group=group, user__email="alice@school.example", trn="1234567")
    ben = ParticipantFactory(group=group, user__email="ben@school.example", trn="7654321")
    ActivityFactory(
        group=None,
        course=group.course,
        code="unit-1",
        starts_at=None,
        ends_at=None,
        due_on="2025-11-30",
        kind="online_study_unit",
    )
    return group, alice, ben


def run(raw: bytes):
    return import_lms_completions(
        raw, participants=Participant.objects.all(), activities=Activity.objects.all()
    )


def test_rows_load_by_email_or_trn_and_bad_lines_are_reported(course):
    group, alice, ben = course
    csv = (
        b"participant,activity_code,completed_at\r\n"
        b"ALICE@school.example,unit-1,2025-11-20 10:00\r\n"
        b"7654321,unit-1,2025-11-21\r\n"
        b"nobody@school.example,unit-1,2025-11-21\r\n"
        b"alice@school.example,unit-99,2025-11-21\r\n"
        b"alice@school.example,unit-1,yesterday\r\n"
    )
    outcome = run(csv)
    assert (outcome.rows, outcome.loaded) == (5, 2), outcome.problems
    assert outcome.problems == [
        (4, "no participant with email or TRN 'nobody@school.example'"),
        (5, "no activity with code 'unit-99' on alice@school.example's course"),
        (6, "completed_at 'yesterday' is not a date and time like 2025-11-05 16:30"),
    ]
    marks = dict(Attendance.objects.values_list("participant__user__email", "status"))
    assert marks == {"alice@school.example": "completed", "ben@school.example": "completed"}
    assert Attendance.objects.get(participant=alice).completed_at.isoformat().startswith("2025-11-20T10:00")
    again = run(csv)
    assert (again.loaded, again.unchanged) == (0, 2)


def test_wrong_columns_load_nothing(course):
    with pytest.raises(MalformedFile, match="missing: activity_code"):
        run(b"participant,completed_at\r\nalice@school.example,2025-11-20\r\n")
    assert not Attendance.objects.exists()


def test_the_file_loads_in_one_transaction(course, monkeypatch):
    """An error after the marks were written (here: queueing the tally) leaves none of them."""

    def failing(**kwargs):
        raise RuntimeError("broker went away")

    monkeypatch.setattr("engagement.lms_import.schedule_tally", failing)
    with pytest.raises(RuntimeError):
        run(
            b"participant,activity_code,completed_at\r\nalice@school.example,unit-1,2025-11-20\r\nben@school.example,unit-1,2025-11-20\r\n"
        )
    assert not Attendance.objects.exists()
    assert not Attendance.history.exists()
    assert Activity.objects.get(code="unit-1").imported_on is None


def test_staff_import_from_admin_matches_only_their_hub(client, course):
    group, alice, ben = course
    stranger = ParticipantFactory(user__email="carol@elsewhere.example")
    ActivityFactory(group=stranger.group, code="unit-1")
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    upload = SimpleUploadedFile(
        "lms.csv",
        b"participant,activity_code,completed_at\r\nalice@school.example,unit-1,2025-11-20\r\ncarol@elsewhere.example,unit-1,2025-11-20\r\n",
    )
    response = client.post(reverse("admin:engagement_activity_lms_import"), {"file": upload})
    html = response.content.decode()
    assert "2 rows read: 1 marked completed" in html
    assert "Line 3: no participant with email or TRN &#x27;carol@elsewhere.example&#x27;" in html
    assert not Attendance.objects.filter(participant=stranger).exists()


def test_marks_keep_their_history_as_a_save_would(course):
    group, alice, ben = course
    staff = HubStaffFactory(hub=group.course.cohort.hub)
    unit = Activity.objects.get(code="unit-1")
    Attendance.objects.create(participant=ben, activity=unit, status="absent")
    import_lms_completions(
        b"participant,activity_code,completed_at\r\n"
        b"alice@school.example,unit-1,2025-11-20 10:00\r\n"
        b"ben@school.example,unit-1,2025-11-21 11:00\r\n"
        b"ALICE@SCHOOL.EXAMPLE,unit-1,2025-11-22\r\n",  # already completed by the line above
        participants=Participant.objects.all(),
        activities=Activity.objects.all(),
        by=staff,
    )
    history = {
        (h.participant_id, h.history_type): (h.status, h.history_user_id, h.completed_at.isoformat()[:16])
        for h in Attendance.history.filter(history_user=staff)
    }
    assert history == {
        (alice.pk, "+"): ("completed", staff.pk, "2025-11-20T10:00"),
        (ben.pk, "~"): ("completed", staff.pk, "2025-11-21T11:00"),
    }
    ben_mark = Attendance.objects.get(participant=ben)
    assert (ben_mark.status, ben_mark.recorded_by) == ("completed", staff)
    assert Attendance.history.filter(participant_id=ben.pk).count() == 2  # created absent, then completed


def lms_course_of(size: int):
    """A course of ``size`` participants (made in bulk: the factories' service would take
    minutes at 1,000) with ten units, half of the participants named by TRN in the file."""
    from accounts.models import User

    group = GroupFactory(capacity=size)
    units = [
        ActivityFactory(
            group=None,
            course=group.course,
            code=f"unit-{n}",
            starts_at=None,
            ends_at=None,
            due_on="2025-11-30",
        )
        for n in range(10)
    ]
    users = User.objects.bulk_create(
        User(email=f"p{size}-{n}@school.example", full_name=f"Participant {n}") for n in range(size)
    )
    people = Participant.objects.bulk_create(
        Participant(user=user, course=group.course, group=group, trn=str(3000000 + size * 10 + n))
        for n, user in enumerate(users)
    )
    return group, units, people


@pytest.mark.parametrize("rows", [10, 1000])
def test_the_import_makes_the_same_statements_for_ten_rows_or_a_thousand(rows, django_assert_num_queries):
    """New marks, changed marks (absent -> completed), unchanged ones, unknown people and codes:
    the same number of statements whatever the size of the file."""
    group, units, people = lms_course_of(rows // 10 * 2)
    staff = HubStaffFactory(hub=group.course.cohort.hub)
    for person in people[::4]:
        Attendance.objects.create(participant=person, activity=units[0], status="absent")
    for person in people[1::4]:
        Attendance.objects.create(participant=person, activity=units[0], status="attended")
    lines = ["participant,activity_code,completed_at"]
    for n, person in enumerate(people[: rows // 10]):
        who = person.trn if n % 2 else person.user.email.upper()
        lines += [f"{who},{unit.code},2025-11-2{n % 10} 10:00" for unit in units[:8]]
        lines += [f"{who},unit-99,2025-11-20", f"nobody-{n}@school.example,unit-1,2025-11-20"]
    raw = "\r\n".join(lines).encode()
    # Savepoint, participants, activities, marks, upsert with history (SQLite: two), imported_on, release.
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 8):
        outcome = import_lms_completions(
            raw,
            participants=visible_to(Participant.objects.all(), staff),
            activities=visible_to(Activity.objects.all(), staff),
            by=staff,
        )
    named = rows // 10
    attended = len(range(1, named, 4))  # their unit-0 was already done
    assert (outcome.rows, outcome.loaded, outcome.unchanged) == (rows, named * 8 - attended, attended)
    assert len(outcome.problems) == named * 2
    assert Attendance.objects.filter(status="completed", recorded_by=staff).count() == outcome.loaded


def test_a_file_past_the_largest_size_is_refused_next_to_the_field_and_nothing_is_read(
    client, course, settings
):
    group, alice, ben = course
    settings.LMS_IMPORT_MAX_MB = 1
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    header = b"participant,activity_code,completed_at\r\n"
    row = b"alice@school.example,unit-1,2025-11-20\r\n"
    upload = SimpleUploadedFile("lms.csv", header + row * (1024 * 1024 // len(row) + 1))
    response = client.post(reverse("admin:engagement_activity_lms_import"), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert "the largest this page takes is 1 MB" in html
    assert response.context["form"].errors["file"][0].startswith("The file is 1.0 MB")
    assert not Attendance.objects.exists()
