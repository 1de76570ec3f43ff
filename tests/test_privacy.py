"""Personal data as UK GDPR expects: a person with every kind of record is exported (every record
appears), then erased (nothing identifying left in the database or the media folder).

The retention schedule is tested in test_privacy_retention.py, copies of a person's data in
test_privacy_copies.py, the staff pages and the privacy notice in test_privacy_staff_pages.py."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailConfirmation
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection, models
from django.utils import timezone

from applications.models import Application, Employment, Endorsement, FundedPlaceChange, Transition
from assessment.models import AssessmentWindow, Entry, MarkingAssignment, Outcome, Submission
from common.personal_data import personal_entries
from dfe.models import Declaration, DfeApplication, DfeWrite, Evidence, LeadProviderStaff
from engagement.models import Attendance, CalendarFeed, EngagementTally, MentorCheckin
from funding.models import FundingDecision, FundingReview, FundingReviewUpdate
from notifications.models import Notification
from privacy.models import AccessLogEntry, SubjectAccessExport
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
from tests.privacy_support import read_export

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
