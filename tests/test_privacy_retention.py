"""The retention schedule removes exactly what it says, when it says: each kind a day before and
a day after its period, a hub's own rule for its records; and the report of what goes within
the next month."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile

from applications.models import Application, Endorsement, Transition
from assessment.models import AssessmentWindow, Entry, Submission
from engagement.models import Attendance
from notifications.models import JobRun, Notification
from privacy.models import AccessLogEntry, ErasureRecord, RetentionRule, RetentionRun
from privacy.retention import retention_apply, retention_report
from programmes.models import Participant
from tests.factories import ActivityFactory, ApplicationFactory, GroupFactory, ParticipantFactory

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


T0 = datetime(2026, 1, 10, 12, 0, tzinfo=LONDON)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.mark.django_db
def test_the_retention_job_removes_exactly_what_the_schedule_says_when_it_says(
    media, django_capture_on_commit_callbacks
):
    with at(T0):
        course_a = GroupFactory().course
        course_b = GroupFactory().course
        hub_b = course_b.cohort.hub
        draft = ApplicationFactory(course=course_a)  # expires after APPLICATION_COMPLETION_DAYS (5)
        rejected_a = ApplicationFactory(course=course_a, status="rejected", full_name="Rita Rejected")
        rejected_b = ApplicationFactory(course=course_b, status="rejected", full_name="Bob Rejected")
        for application in (rejected_a, rejected_b):
            Transition.objects.create(
                application=application, from_status="submitted", to_status="rejected", at=T0
            )
        RetentionRule.objects.create(kind="closed_applications", hub=hub_b, period=35, unit="days")
        group = course_a.groups.first()
        finished = ParticipantFactory(group=group)
        Participant.objects.filter(pk=finished.pk).update(status="completed", status_changed_on=T0.date())
        window = AssessmentWindow.objects.create(
            course=course_a, opens_on=date(2025, 12, 1), results_released_at=T0
        )
        entry = Entry.objects.create(window=window, participant=finished, access="engagement")
        script = Submission(entry=entry, word_count=3, submitted_at=T0)
        script.file.save("script.pdf", ContentFile(b"%PDF script"), save=False)
        script.save()
        Notification.objects.create(
            kind="k",
            recipient="n@school.example",
            subject_type="x",
            subject_id=1,
            occurrence="o",
            title="t",
            body_text="b",
            body_html="b",
            status="sent",
        )
        JobRun.objects.create(job="some_job", started_at=T0, finished_at=T0)
        AccessLogEntry.objects.create(at=T0, action="viewed", what="Participant page")
    script_path = Path(media, script.file.name)

    def run(moment: datetime) -> dict[str, int]:
        with at(moment), django_capture_on_commit_callbacks(execute=True):
            retention_apply()
        runs = {r.kind: r.removed for r in RetentionRun.objects.filter(ran_at=moment)}
        return runs

    # A day before the draft's 30 days after expiry: nothing of what the test made goes.
    assert "unfinished_applications" not in run(T0 + timedelta(days=5 + 29))
    assert Application.objects.filter(pk=draft.pk).exists()
    # The day after: the draft is deleted; hub B's own rule (35 days) anonymised its rejection.
    removed = run(T0 + timedelta(days=5 + 31))
    assert removed["unfinished_applications"] == 1 and removed["closed_applications"] == 1
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert Application.objects.get(pk=rejected_b.pk).full_name == ""
    assert Application.objects.get(pk=rejected_a.pk).full_name == "Rita Rejected"
    # Running again finds nothing left: idempotent.
    assert run(T0 + timedelta(days=5 + 31, hours=1)).get("closed_applications") is None

    # After 90 days the job run goes; after a year (+1 day) the portal's rule anonymises hub A's
    # rejection (the row and its status stay for counts) and the script and its file go.
    assert run(T0 + timedelta(days=91)).get("job_runs") == 1
    assert script_path.exists()
    removed = run(T0 + timedelta(days=367))
    assert removed["closed_applications"] == 1 and removed["assessment_scripts"] == 1
    assert Application.objects.get(pk=rejected_a.pk).full_name == ""
    assert Application.objects.filter(status="rejected").count() == 2
    assert not Submission.objects.exists() and not script_path.exists()
    assert Entry.objects.filter(pk=entry.pk).exists()

    # Two years: the message, the access log entry, and the three applicants who never enrolled
    # (not signed in since). Seven: the participant, erased.
    removed = run(T0 + timedelta(days=2 * 365 + 2))
    assert removed["notifications"] == 1 and removed["access_log"] == 1
    assert removed["inactive_accounts"] == 3
    erased = set(ErasureRecord.objects.values_list("account_id", flat=True))
    assert erased == {draft.user_id, rejected_a.user_id, rejected_b.user_id}
    removed = run(T0 + timedelta(days=7 * 365 + 3))
    assert removed == {"participants": 1}
    assert ErasureRecord.objects.get(account_id=finished.user_id).cause == "retention"
    finished.refresh_from_db()
    assert finished.trn == "" and not finished.user.is_active
    assert Participant.objects.filter(pk=finished.pk).exists()
    assert run(T0 + timedelta(days=7 * 365 + 4)) == {}


@pytest.mark.django_db
def test_the_report_shows_what_goes_within_the_next_month(media):
    with at(T0):
        course = GroupFactory().course
        window = AssessmentWindow.objects.create(
            course=course, opens_on=date(2025, 12, 1), results_released_at=T0
        )
        participant = ParticipantFactory(group=course.groups.first())
        entry = Entry.objects.create(window=window, participant=participant, access="engagement")
        Submission.objects.create(entry=entry, text="words", word_count=1, submitted_at=T0)
    rows = {row.kind: (now, month) for row, now, month in retention_report(now=T0 + timedelta(days=340))}
    assert rows["assessment_scripts"] == (0, 1)
    rows = {row.kind: (now, month) for row, now, month in retention_report(now=T0 + timedelta(days=300))}
    assert rows["assessment_scripts"] == (0, 0)


@pytest.mark.django_db
def test_the_other_kinds_go_on_time_too(media, django_capture_on_commit_callbacks):
    """Endorsements, marks, import files, sessions and files no record names, each a day before
    and a day after its period."""
    import os

    from django.contrib.sessions.models import Session

    from funding.models import ImportRun

    with at(T0):
        group = GroupFactory()
        course = group.course
        application = ApplicationFactory(course=course, status="endorsed")  # open: not due itself
        endorsement = Endorsement.objects.create(
            application=application,
            endorser_name="Hana Hughes",
            endorser_email="hana@school.example",
            token_hash="e" * 64,
            sent_at=T0,
            expires_at=T0 + timedelta(days=14),
            used_at=T0,
            decision="endorsed",
        )
        participant = ParticipantFactory(group=group)
        mark = Attendance.objects.create(
            participant=participant, activity=ActivityFactory(group=group), status="attended"
        )
        run = ImportRun(kind="gias", status="done")
        run.file.save("gias.csv", ContentFile(b"URN,Name\n1,School\n"), save=True)
        Session.objects.create(session_key="s" * 32, session_data="x", expire_date=T0)
        orphan = Path(media, "submissions", "2026", "left-behind.pdf")
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"%PDF")
        os.utime(orphan, (T0.timestamp(), T0.timestamp()))
    import_path = Path(run.file.path)
    delivery_end = datetime.combine(course.delivery_end, datetime.min.time(), tzinfo=LONDON)

    def removed_at(moment: datetime) -> dict[str, int]:
        with at(moment), django_capture_on_commit_callbacks(execute=True):
            retention_apply()
        return {r.kind: r.removed for r in RetentionRun.objects.filter(ran_at=moment)}

    assert removed_at(T0 + timedelta(days=29)) == {"sessions": 1}
    assert orphan.exists()
    assert removed_at(T0 + timedelta(days=31)) == {"uploaded_files": 1}
    assert not orphan.exists()
    assert removed_at(T0 + timedelta(days=89)) == {}
    assert import_path.exists()
    assert removed_at(T0 + timedelta(days=91)) == {"import_files": 1}
    run.refresh_from_db()
    assert not run.file and run.status == "done" and not import_path.exists()
    assert removed_at(T0 + timedelta(days=364)) == {}
    assert removed_at(T0 + timedelta(days=366)) == {"endorsements": 1}
    endorsement.refresh_from_db()
    assert endorsement.endorser_email.endswith("@erased.invalid") and endorsement.decision == "endorsed"
    assert "attendance" not in removed_at(delivery_end + timedelta(days=7 * 365))
    assert Attendance.objects.filter(pk=mark.pk).exists()
    assert removed_at(delivery_end + timedelta(days=7 * 365 + 3)).get("attendance") == 1
    assert not Attendance.objects.filter(pk=mark.pk).exists()
