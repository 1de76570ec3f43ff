"""Personal data as UK GDPR expects: a person with every kind of record is exported (every record
appears), erased (nothing identifying left in the database or the media folder), and the
retention schedule removes exactly what it says, when it says."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.account.models import EmailConfirmation
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, Employment, Endorsement, FundedPlaceChange, Transition
from assessment.models import AssessmentWindow, Entry, MarkingAssignment, Outcome, Submission
from dfe.models import Declaration, DfeApplication, DfeWrite, Evidence, LeadProviderStaff
from engagement.models import Attendance, CalendarFeed, EngagementTally, MentorCheckin
from funding.models import FundingDecision, FundingReview, FundingReviewUpdate
from notifications.models import JobRun, Notification
from privacy.models import AccessLogEntry, ErasureRecord, RetentionRule, RetentionRun, SubjectAccessExport
from privacy.registry import personal_entries
from privacy.retention import retention_apply, retention_report
from privacy.services import erase_person, export_request
from programmes.models import FreedPlace, HubMembership, Participant
from tests.factories import (
    TOTP_SECRET,
    ActivityFactory,
    ApplicationFactory,
    GroupFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
    complete_answers,
)

LONDON = ZoneInfo("Europe/London")
NAME = "Zebedee Quartermaine"
EMAIL = "zebedee.quartermaine@school.example"
TRN = "7654321"
DOB = date(1984, 2, 29)
IDENTIFYING = ["Zebedee", "Quartermaine", "zebedee.quartermaine", TRN, "1984-02-29"]
SCRIPT = b"My response about the behaviour crisis, by Zebedee Quartermaine."


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def a_person_with_every_kind_of_record(media: Path) -> dict:
    """One teacher with an account, two-factor, an application with its history, endorsement and
    employment, a funding decision under review, an enrolment with marks, a check-in, a calendar,
    an assessment with a script file, marking and outcome, messages, an admin change log entry,
    an access log entry, and an endorsement they gave another teacher as headteacher."""
    person = UserFactory(email=EMAIL, full_name=NAME)
    TOTP.activate(person, TOTP_SECRET)
    group = GroupFactory()
    course = group.course
    hub = course.cohort.hub
    staff = HubStaffFactory(hub=hub)
    participant = ParticipantFactory(
        user=person, group=group, trn=TRN, mentor_name="Mo Mentor", mentor_email="mo@school.example"
    )
    answers = complete_answers(course, full_name=NAME, trn=TRN, date_of_birth=DOB.isoformat())
    decision = FundingDecision.objects.create(
        user=person,
        course=course,
        funding_round=course.cohort.funding_round,
        facts={**answers, "round": "2025"},
        funded=True,
        reason="funded",
        subject_to_review=True,
        assessed_at=timezone.now(),
    )
    review = FundingReview.objects.create(decision=decision, notes=f"Spoke to {NAME} on the phone.")
    FundingReviewUpdate.objects.create(
        review=review, note=f"{NAME} sent payslips.", by=staff, at=timezone.now()
    )
    application = ApplicationFactory(
        user=person,
        course=course,
        answers=answers,
        status=Application.Status.ACCEPTED,
        participant=participant,
        trn=TRN,
        full_name=NAME,
        date_of_birth=DOB,
        endorser_name="Hana Hughes",
        endorser_email="hana@school.example",
        submitted_at=timezone.now(),
        funding_decision=decision,
    )
    Transition.objects.create(
        application=application,
        from_status="endorsed",
        to_status="accepted",
        by=staff,
        at=timezone.now(),
        note=f"Accepted {NAME}.",
    )
    employment = Employment.objects.create(
        application=application,
        workplace_name="Northfield Academy",
        role="Head of maths",
        headteacher_name="Hana Hughes",
        headteacher_email="hana@school.example",
    )
    Endorsement.objects.create(
        application=application,
        employment=employment,
        endorser_name="Hana Hughes",
        endorser_email="hana@school.example",
        token_hash="a" * 64,
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=14),
        used_at=timezone.now(),
        decision="endorsed",
        reason=f"{NAME} is ready.",
    )
    FundedPlaceChange.objects.create(
        application=application, funded_place=True, reason=f"{NAME} qualifies.", by=staff, at=timezone.now()
    )
    # As headteacher of another teacher: an endorsement given, naming the person.
    other = ApplicationFactory(course=course, endorser_name=NAME, endorser_email=EMAIL)
    given = Endorsement.objects.create(
        application=other,
        endorser_name=NAME,
        endorser_email=EMAIL,
        token_hash="b" * 64,
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=14),
    )
    activity = ActivityFactory(group=group, course=course)
    Attendance.objects.create(
        participant=participant, activity=activity, status="attended", recorded_by=staff
    )
    EngagementTally.objects.create(participant=participant, percent=100, computed_at=timezone.now())
    MentorCheckin.objects.create(
        participant=participant,
        held_on=date(2025, 11, 1),
        notes=f"{NAME} discussed behaviour.",
        mentor_name="Mo Mentor",
        mentor_email="mo@school.example",
        token_hash="c" * 64,
        requested_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=14),
    )
    CalendarFeed.objects.create(user=person, token="d" * 40)
    window = AssessmentWindow.objects.create(course=course, opens_on=date(2026, 6, 1))
    entry = Entry.objects.create(
        window=window,
        participant=participant,
        access="granted",
        access_reason=f"{NAME} was ill.",
        access_granted_by=staff,
    )
    submission = Submission(
        entry=entry,
        text="",
        word_count=12,
        submitted_at=timezone.now(),
        original_name="zebedee-quartermaine-response.docx",
    )
    submission.file.save("response.docx", ContentFile(SCRIPT), save=False)
    submission.save()
    MarkingAssignment.objects.create(
        entry=entry,
        role="first",
        marker=staff,
        result="pass",
        feedback=f"Well argued, {NAME}.",
        marked_at=timezone.now(),
    )
    Outcome.objects.create(
        entry=entry, result="passed", feedback=f"Congratulations {NAME}.", decided_at=timezone.now()
    )
    Notification.objects.create(
        kind="reminder",
        recipient=EMAIL,
        user=person,
        subject_type="programmes.participant",
        subject_id=participant.pk,
        occurrence="day-3",
        title=f"Hello {NAME}",
        body_text=f"Dear {NAME}",
        body_html=f"<p>Dear {NAME}</p>",
        status="sent",
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(Application),
        object_id=str(application.pk),
        object_repr=str(application),
        action_flag=CHANGE,
        change_message=f"Changed {NAME}",
    )
    AccessLogEntry.objects.create(
        at=timezone.now(), by=staff, action="viewed", what="Participant page", person=person, hub=hub
    )
    FreedPlace.objects.create(course=course, participant=participant, freed_at=timezone.now())
    dfe_application = DfeApplication.objects.create(
        dfe_id=uuid.uuid4(),
        lead_provider=hub.lead_provider,
        participant_id=uuid.uuid4(),
        course_identifier="npq-leading-teaching",
        full_name=NAME,
        email=EMAIL,
        trn=TRN,
        dfe_updated_at=timezone.now(),
        attributes={"full_name": NAME, "email": EMAIL, "teacher_reference_number": TRN, "status": "accepted"},
        application=application,
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    DfeWrite.objects.create(
        dfe_application=dfe_application,
        action="accept",
        payload={"funded_place": True},
        created_at=timezone.now(),
        created_by=staff,
    )
    evidence = Evidence.objects.create(
        participant=participant,
        declaration_type="started",
        content={"participant": participant.pk, "met": True},
        content_hash="0" * 64,
        met=True,
        made_at=timezone.now(),
        made_by=staff,
    )
    Declaration.objects.create(
        dfe_application=dfe_application,
        declaration_type="started",
        declaration_date=timezone.now(),
        delivery_partner_id=uuid.uuid4(),
        evidence=evidence,
        created_at=timezone.now(),
        created_by=staff,
    )
    return {
        "person": person,
        "staff": staff,
        "hub": hub,
        "participant": participant,
        "application": application,
        "submission": submission,
        "given": given,
        "other": other,
    }


def text_in_database(needle: str) -> list[str]:
    """Every table and column (as text) in which ``needle`` appears."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if not model._meta.managed or model._meta.proxy:
                continue
            for f in model._meta.concrete_fields:
                if isinstance(f, models.BinaryField):
                    continue
                table = connection.ops.quote_name(model._meta.db_table)
                column = connection.ops.quote_name(f.column)
                # Names from the models' own metadata, quoted; the needle is a parameter.
                cursor.execute(f"SELECT count(*) FROM {table} WHERE {column}::text ILIKE %s", [f"%{needle}%"])  # noqa: S608
                if cursor.fetchone()[0]:
                    found.append(f"{model._meta.db_table}.{f.column}")
    return found


def read_export(export: SubjectAccessExport) -> zipfile.ZipFile:
    with export.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


@pytest.mark.django_db
def test_a_person_is_exported_whole_then_erased_leaving_nothing_identifying(
    media, django_capture_on_commit_callbacks
):
    world = a_person_with_every_kind_of_record(media)
    person = world["person"]

    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(person=person, requested_by=person)
    export.refresh_from_db()
    assert export.status == SubjectAccessExport.Status.DONE
    assert export.parts_done == export.parts_total > 20
    # Every kind of record about a person is made above, but these: a staff role, a lead
    # provider's staff, an address confirmation (only while unverified), a sign-in session
    # (found by no one's account).
    made = {e.model for e in personal_entries() if e.subject is not None and e.rows_about(person).exists()}
    not_made = {e.model for e in personal_entries() if e.subject is not None} - made
    assert not_made == {HubMembership, LeadProviderStaff, EmailConfirmation}, not_made
    archive = read_export(export)
    names = set(archive.namelist())
    # Every record the registry finds about the person is in the copy, by id.
    for entry in personal_entries():
        about = set(entry.rows_about(person).values_list("pk", flat=True))
        if entry.model is SubjectAccessExport:
            about.discard(export.pk)  # being made: not in itself
        if not about:
            continue
        section = json.loads(archive.read(f"records/{entry.label}.json"))
        assert {row["id"] for row in section["about_you"]} == about, entry.label
    # ... the endorsement they gave as someone's headteacher, the file they uploaded ...
    endorsements = json.loads(archive.read("records/applications.Endorsement.json"))
    assert [row["id"] for row in endorsements["mentioning_you"]] == [world["given"].pk]
    assert archive.read(f"files/{world['submission'].file.name}") == SCRIPT
    # ... and never a secret.
    everything = b"".join(archive.read(name) for name in names)
    assert b"token_hash" not in everything and b"aaaaaaaaaaaaaaaa" not in everything
    assert TOTP_SECRET.encode() not in everything
    account = json.loads(archive.read("records/accounts.User.json"))["about_you"][0]
    assert account["email"] == EMAIL and "password" not in account
    assert export.expires_at == export.finished_at + timedelta(days=7)

    script_path = Path(media, world["submission"].file.name)
    export_path = Path(media, export.file.name)
    assert script_path.exists() and export_path.exists()
    counts_before = {
        m: m.objects.count() for m in (Application, Participant, FundingDecision, Outcome, Attendance)
    }

    superuser = UserFactory(is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        record = erase_person(person=person, by=superuser)

    for needle in IDENTIFYING:
        assert text_in_database(needle) == [], needle
    assert not script_path.exists() and not export_path.exists()
    for path in media.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Quartermaine" not in data and TRN.encode() not in data, path
    # Counts and funding records stay; the record of the erasure holds numbers only.
    assert {m: m.objects.count() for m in counts_before} == counts_before
    decision = FundingDecision.objects.get(user=person)
    assert decision.funded and decision.reason == "funded" and decision.facts.get("round") == "2025"
    person.refresh_from_db()
    assert not person.is_active and not person.has_usable_password()
    assert record.account_id == person.pk and record.erased_by == superuser
    assert record.counts["Applications"] == {"anonymised": 1, "deleted": 0, "kept": 0, "naming_them": 1}
    assert record.counts["Assessment responses"] == {
        "anonymised": 0,
        "deleted": 1,
        "kept": 0,
        "naming_them": 0,
    }
    assert record.files_deleted == 2
    assert NAME not in json.dumps(record.counts) and EMAIL not in json.dumps(record.counts)
    # The other teacher's application stays theirs; only the endorser's details went.
    other = Application.objects.get(pk=world["other"].pk)
    assert other.user_id == world["other"].user_id and other.endorser_email.endswith("@erased.invalid")


# --- Retention -------------------------------------------------------------------------------------

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


# --- Who may download a copy -------------------------------------------------------------------------


@pytest.fixture
def copy(media, django_capture_on_commit_callbacks):
    person = ParticipantFactory().user
    hub = person.enrolments.get().course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(person=person, requested_by=admin_of_hub, hub_id=hub.pk)
    export.refresh_from_db()
    return export, admin_of_hub


def download(client, user, export):
    client.force_login(user)
    return client.get(reverse("privacy_export_download", args=[export.pk]))


@pytest.mark.django_db
def test_only_the_person_their_hubs_administrators_and_superusers_download_a_copy(client, copy):
    export, admin_of_hub = copy
    for user in (export.person, admin_of_hub, UserFactory(is_staff=True, is_superuser=True)):
        response = download(client, user, export)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/zip"
        assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("README.txt")
    assert AccessLogEntry.objects.filter(action="downloaded", person=export.person).count() == 3
    for user in (UserFactory(), HubStaffFactory(hub=GroupFactory().course.cohort.hub)):
        assert download(client, user, export).status_code == 404
    client.logout()
    assert client.get(reverse("privacy_export_download", args=[export.pk])).status_code == 302


@pytest.mark.django_db
def test_a_copy_whose_file_has_gone_is_not_found_and_no_download_is_logged(client, copy):
    export, _ = copy
    Path(export.file.path).unlink()  # e.g. storage cleaned by hand
    assert download(client, export.person, export).status_code == 404
    assert not AccessLogEntry.objects.filter(action="downloaded", person=export.person).exists()


@pytest.mark.django_db
def test_a_copy_expires_and_the_schedule_deletes_its_file(client, copy, django_capture_on_commit_callbacks):
    export, _ = copy
    path = Path(export.file.path)
    with time_machine.travel(export.expires_at + timedelta(seconds=1)):
        assert download(client, export.person, export).status_code == 404
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply()
    export.refresh_from_db()
    assert export.status == SubjectAccessExport.Status.EXPIRED and not export.file and not path.exists()


@pytest.mark.django_db
def test_a_person_asks_for_their_copy_and_sees_it_ready(
    client, media, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    person = ParticipantFactory().user
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy_your_data"))
    assert response.status_code == 302
    with django_assert_max_num_queries(8):
        page = client.get(reverse("privacy_your_data")).content.decode()
    export = SubjectAccessExport.objects.get(person=person)
    assert reverse("privacy_export_download", args=[export.pk]) in page
    assert "Download the copy" in page


# --- Staff pages ------------------------------------------------------------------------------------


def staff_client(client, user):
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "mfa", "type": "totp", "at": 0}]
    session.save()
    return client


@pytest.mark.django_db
def test_hub_staff_ask_for_a_copy_only_of_their_hubs_people(
    client, media, django_capture_on_commit_callbacks
):
    ours = ParticipantFactory()
    theirs = ParticipantFactory()
    admin_of_hub = HubStaffFactory(hub=ours.course.cohort.hub)
    staff_client(client, admin_of_hub)
    url = reverse("admin:privacy_subjectaccessexport_add")
    refused = client.post(url, {"email": theirs.user.email})
    assert refused.status_code == 200
    assert (
        "No one with this email address has applied to or is enrolled with your hub."
        in refused.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": ours.user.email.upper()})
    export = SubjectAccessExport.objects.get()
    assert response.status_code == 302 and export.person == ours.user and export.hub == ours.course.cohort.hub
    page = client.get(reverse("admin:privacy_subjectaccessexport_change", args=[export.pk])).content.decode()
    assert "Ready to download" in page and reverse("privacy_export_download", args=[export.pk]) in page


@pytest.mark.django_db
def test_erasure_is_for_superusers_after_a_confirmation_of_what_goes_and_what_stays(client, media):
    participant = ParticipantFactory(trn="1112223")
    person = participant.user
    assert (
        staff_client(client, HubStaffFactory(hub=participant.course.cohort.hub))
        .get(reverse("admin:privacy_erasurerecord_erase"))
        .status_code
        == 403
    )
    staff_client(client, UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:privacy_erasurerecord_erase")
    page = client.post(url, {"email": person.email}).content.decode()
    assert "Erase this person?" in page and "Enrolments" in page and "teacher reference number" in page
    assert "for the hub" in page  # what is kept, and why
    assert Participant.objects.get(pk=participant.pk).trn == "1112223"  # nothing happened yet
    response = client.post(url, {"email": person.email, "confirm": "yes"})
    assert response.status_code == 302
    assert Participant.objects.get(pk=participant.pk).trn == ""
    assert ErasureRecord.objects.get().account_id == person.pk
    assert AccessLogEntry.objects.get(action="erased").person == person
    again = client.post(url, {"email": f"erased-user-{person.pk}@erased.invalid"}).content.decode()
    assert "already been erased" in again


@pytest.mark.django_db
def test_viewing_and_exporting_participants_is_logged_and_shown_to_their_hub_only(client, media):
    participant = ParticipantFactory()
    hub = participant.course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    staff_client(client, admin_of_hub)
    assert (
        client.get(reverse("admin:programmes_participant_change", args=[participant.pk])).status_code == 200
    )
    client.post(
        reverse("admin:programmes_participant_changelist"),
        {"action": "export_as_csv", "_selected_action": [participant.pk]},
    )
    window = AssessmentWindow.objects.create(
        course=participant.course, opens_on=participant.course.delivery_end
    )
    assert client.get(reverse("admin:assessment_window_manage", args=[window.pk])).status_code == 200
    course_wide = AccessLogEntry.objects.get(what__startswith="Assessment entries")
    assert (course_wide.person, course_wide.hub) == (None, hub)
    viewed = AccessLogEntry.objects.get(action="viewed", person__isnull=False)
    assert (viewed.by, viewed.person, viewed.hub) == (admin_of_hub, participant.user, hub)
    exported = AccessLogEntry.objects.get(action="exported")
    assert exported.rows == 1 and exported.hub == hub and exported.what == "CSV export: participants"
    listing = client.get(reverse("admin:privacy_accesslogentry_changelist")).content.decode()
    assert "Participant page" in listing
    other_admin = HubStaffFactory(hub=GroupFactory().course.cohort.hub)
    staff_client(client, other_admin)
    listing = client.get(reverse("admin:privacy_accesslogentry_changelist")).content.decode()
    assert "Participant page" not in listing


# --- Privacy notice ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_privacy_notice_is_linked_and_shows_the_schedule_a_hub_may_override(client):
    home = client.get("/").content.decode()
    assert reverse("privacy_notice") in home
    assert reverse("privacy_notice") in client.get(reverse("account_signup")).content.decode()
    page = client.get(reverse("privacy_notice")).content.decode()
    assert "public task" in page and "Assessment responses and their files" in page and "12 months" in page
    hub = GroupFactory().course.cohort.hub
    RetentionRule.objects.create(kind="assessment_scripts", hub=hub, period=3, unit="years")
    page = client.get(reverse("privacy_notice"), {"hub": hub.pk}).content.decode()
    assert "3 years after the results were released" in page and hub.name in page
    assert client.get(reverse("privacy_notice"), {"hub": "x'; drop"}).status_code == 200


@pytest.mark.django_db
def test_the_privacy_admin_pages_open_for_those_allowed_at_a_constant_cost(
    client, media, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory()
    hub = participant.course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    for _ in range(3):
        AccessLogEntry.objects.create(
            at=timezone.now(), by=admin_of_hub, action="viewed", what="x", hub=hub, person=participant.user
        )
        with django_capture_on_commit_callbacks(execute=True):
            export_request(person=participant.user, requested_by=admin_of_hub, hub_id=hub.pk)
    pages = {
        "admin:privacy_accesslogentry_changelist": True,
        "admin:privacy_subjectaccessexport_changelist": True,
        "admin:privacy_subjectaccessexport_add": True,
        "admin:privacy_retentionrule_changelist": True,
        "admin:privacy_retentionrule_add": True,
        "admin:privacy_retentionrule_report": False,
        "admin:privacy_erasurerecord_changelist": False,
        "admin:privacy_erasurerecord_erase": False,
    }
    superuser = UserFactory(is_staff=True, is_superuser=True)
    for user in (superuser, admin_of_hub):
        staff_client(client, user)
        for name, hub_admin_may in pages.items():
            # The report counts two moments for each of the 13 kinds of record.
            with django_assert_max_num_queries(50 if name.endswith("report") else 25):
                response = client.get(reverse(name))
            expected = 200 if user.is_superuser or hub_admin_may else 403
            assert response.status_code == expected, (user, name)
    staff_client(client, superuser)
    report = client.get(reverse("admin:privacy_retentionrule_report")).content.decode()
    assert "Assessment responses and their files" in report and "12 months" in report
    # A hub's administrators set rules for their own hub only, and only for a hub's records.
    staff_client(client, admin_of_hub)
    refused = client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "job_runs", "hub": hub.pk, "period": 1, "unit": "days"},
    )
    assert "not a hub" in refused.content.decode()
    other_hub = GroupFactory().course.cohort.hub
    client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "attendance", "hub": other_hub.pk, "period": 1, "unit": "years", "enabled": "on"},
    )
    assert not RetentionRule.objects.filter(hub=other_hub).exists()
    client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "attendance", "hub": hub.pk, "period": 3, "unit": "years", "enabled": "on"},
    )
    assert RetentionRule.objects.get(hub=hub).period == 3


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


@pytest.mark.django_db
def test_a_hubs_copy_holds_only_that_hubs_records_the_persons_own_holds_all(
    media, django_capture_on_commit_callbacks
):
    ours = ParticipantFactory()
    person = ours.user
    theirs = ParticipantFactory(user=person)  # the same teacher at another hub
    ApplicationFactory(user=person, course=theirs.course, status="endorsed")
    hub = ours.course.cohort.hub
    with django_capture_on_commit_callbacks(execute=True):
        for_hub = export_request(person=person, requested_by=HubStaffFactory(hub=hub), hub_id=hub.pk)
        for_person = export_request(person=person, requested_by=person)
    for_hub.refresh_from_db()
    for_person.refresh_from_db()

    def enrolments(export) -> set[int]:
        section = json.loads(read_export(export).read("records/programmes.Participant.json"))
        return {row["id"] for row in section["about_you"]}

    assert enrolments(for_hub) == {ours.pk}
    assert enrolments(for_person) == {ours.pk, theirs.pk}
    names = set(read_export(for_hub).namelist())
    assert "records/applications.Application.json" not in names  # the application is the other hub's
    assert "records/accounts.User.json" in names
    assert "records/account.EmailAddress.json" not in names  # the portal's, not the hub's
    assert hub.name in read_export(for_hub).read("README.txt").decode()


@pytest.mark.django_db
def test_pressing_prepare_again_while_a_copy_is_being_made_queues_nothing(client, media):
    person = ParticipantFactory().user
    client.force_login(person)
    client.post(reverse("privacy_your_data"))  # queued: its worker runs after the commit
    client.post(reverse("privacy_your_data"))
    assert SubjectAccessExport.objects.filter(person=person).count() == 1
