"""LMS completion exports: matched by email or TRN and activity code, bad lines reported, one transaction."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funding.imports import MalformedFile
from programmes.lms_import import import_lms_completions
from programmes.models import Activity, Attendance, Participant
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
    original = Attendance.objects.get_or_create
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(Attendance.objects, "get_or_create", failing)
    with pytest.raises(RuntimeError):
        run(
            b"participant,activity_code,completed_at\r\nalice@school.example,unit-1,2025-11-20\r\nben@school.example,unit-1,2025-11-20\r\n"
        )
    assert not Attendance.objects.exists()


def test_staff_import_from_admin_matches_only_their_hub(client, course):
    group, alice, ben = course
    stranger = ParticipantFactory(user__email="carol@elsewhere.example")
    ActivityFactory(group=stranger.group, code="unit-1")
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    upload = SimpleUploadedFile(
        "lms.csv",
        b"participant,activity_code,completed_at\r\nalice@school.example,unit-1,2025-11-20\r\ncarol@elsewhere.example,unit-1,2025-11-20\r\n",
    )
    response = client.post(reverse("admin:programmes_activity_lms_import"), {"file": upload})
    html = response.content.decode()
    assert "2 rows read: 1 marked completed" in html
    assert "Line 3: no participant with email or TRN &#x27;carol@elsewhere.example&#x27;" in html
    assert not Attendance.objects.filter(participant=stranger).exists()
