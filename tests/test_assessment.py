"""Summative assessment: the 8-day window across clock changes, access, submissions, extensions,
files, staff granting access; marking and outcomes are in test_assessment_marking.py."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessment.models import Entry, MarkingAssignment, Submission
from assessment.services import (
    AssessmentError,
    entry_extend,
    entry_for,
    entry_grant_access,
    markers_assign,
    submission_create,
    window_create,
)
from engagement.models import EngagementTally
from programmes.models import Programme
from tests.factories import CourseFactory, GroupFactory, HubMembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def with_engagement(participant, percent):
    EngagementTally.objects.update_or_create(
        participant=participant,
        defaults={
            "percent": Decimal(percent),
            "done_weight": 0,
            "due_weight": 1,
            "on_track": Decimal(percent) >= 90,
            "computed_at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )
    return participant


@pytest.fixture
def window():
    course = CourseFactory()
    GroupFactory(course=course, capacity=50)
    return window_create(
        course=course, opens_on=date(2026, 3, 24), case_study_text="A school facing a behaviour crisis."
    )


def words(n: int) -> str:
    return " ".join(["word"] * n)


def test_the_window_is_8_calendar_days_closing_2359_london_across_the_spring_clock_change(window):
    assert window.opens_at == datetime(2026, 3, 24, 0, 0, tzinfo=UTC)  # GMT
    assert window.closes_at.astimezone(UTC) == datetime(
        2026, 3, 31, 22, 59, 59, 999999, tzinfo=UTC
    )  # 23:59 BST
    participant = with_engagement(ParticipantFactory(group=window.course.groups.first()), 95)
    entry = entry_for(participant=participant, now=datetime(2026, 3, 24, 0, 0, tzinfo=UTC))
    submission_create(entry=entry, text=words(10), now=datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC))
    with pytest.raises(AssessmentError, match="closed at 11:59PM on 31 March 2026"):
        submission_create(entry=entry, text=words(10), now=datetime(2026, 3, 31, 23, 0, 0, tzinfo=UTC))
    with pytest.raises(AssessmentError, match="not opened yet"):
        submission_create(entry=entry, text=words(10), now=datetime(2026, 3, 23, 23, 59, 59, tzinfo=UTC))


def test_the_window_closes_at_2359_gmt_after_the_autumn_clock_change():
    course = CourseFactory()
    autumn = window_create(course=course, opens_on=date(2026, 10, 20))  # clocks go back on 25 October
    assert autumn.opens_at.astimezone(UTC) == datetime(2026, 10, 19, 23, 0, tzinfo=UTC)  # midnight BST
    assert autumn.closes_at.astimezone(UTC) == datetime(2026, 10, 27, 23, 59, 59, 999999, tzinfo=UTC)
    assert (autumn.closes_at.date() - autumn.opens_on).days + 1 == 8


def test_access_needs_90_percent_when_the_window_opens(client, window):
    group = window.course.groups.first()
    ready = with_engagement(ParticipantFactory(group=group), "90.00")
    behind = with_engagement(ParticipantFactory(group=group), "89.99")
    opening = datetime(2026, 3, 24, 9, tzinfo=UTC)
    assert entry_for(participant=ready, now=opening).access == Entry.Access.ENGAGEMENT
    entry = entry_for(participant=behind, now=opening)
    assert entry.access == Entry.Access.NONE and entry.engagement_at_opening == Decimal("89.99")
    with_engagement(behind, 99)  # catching up later does not change the entry
    assert entry_for(participant=behind, now=opening).access == Entry.Access.NONE
    with time_machine.travel(opening, tick=False):
        client.force_login(behind.user)
        page = client.get(reverse("participant_assessment", args=[behind.pk])).content.decode()
        assert 'id="no-access"' in page and "A school facing a behaviour crisis" not in page
        response = client.post(reverse("participant_assessment", args=[behind.pk]), {"text": words(10)})
        assert response.status_code == 403
        assert not Submission.objects.exists()
        assert client.get(reverse("participant_assessment", args=[ready.pk])).status_code == 404  # not theirs
    entry_grant_access(entry=entry, reason="Bereavement during module 3", by=UserFactory())
    assert submission_create(entry=Entry.objects.get(pk=entry.pk), text=words(5), now=opening).word_count == 5


def test_over_length_responses_are_refused_with_the_count(client, window):
    participant = with_engagement(ParticipantFactory(group=window.course.groups.first()), 100)
    with time_machine.travel(datetime(2026, 3, 25, 9, tzinfo=UTC), tick=False):
        client.force_login(participant.user)
        response = client.post(
            reverse("participant_assessment", args=[participant.pk]), {"text": words(1501)}
        )
        html = response.content.decode()
        assert "Your response has 1,501 words. It must be 1,500 words or fewer." in html
        assert "<title>Error: " in html and 'class="govuk-error-summary"' in html
        assert not Submission.objects.exists()
        client.post(reverse("participant_assessment", args=[participant.pk]), {"text": words(1500)})
        assert Submission.objects.get().word_count == 1500


def docx(text: str) -> bytes:
    """A real Word document (python-docx), one paragraph per line."""
    import docx as python_docx

    document = python_docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_uploads_are_checked_by_content_and_counted(window):
    participant = with_engagement(ParticipantFactory(group=window.course.groups.first()), 100)
    now = datetime(2026, 3, 25, 9, tzinfo=UTC)
    entry = entry_for(participant=participant, now=now)
    upload = SimpleUploadedFile("response.docx", docx("My response\n" + words(98)))
    assert submission_create(entry=entry, upload=upload, now=now).word_count == 100
    with pytest.raises(AssessmentError, match="must be a Word document"):
        submission_create(
            entry=entry, upload=SimpleUploadedFile("response.docx", b"MZ\x90\x00 not a document"), now=now
        )
    with pytest.raises(AssessmentError, match="1,500 words or fewer"):
        submission_create(entry=entry, upload=SimpleUploadedFile("r.docx", docx(words(1600))), now=now)


def test_resubmission_until_the_close_the_latest_counts_earlier_kept(window):
    from assessment.services import latest_submission

    participant = with_engagement(ParticipantFactory(group=window.course.groups.first()), 100)
    entry = entry_for(participant=participant, now=datetime(2026, 3, 24, 9, tzinfo=UTC))
    first = submission_create(entry=entry, text=words(10), now=datetime(2026, 3, 25, 9, tzinfo=UTC))
    second = submission_create(entry=entry, text=words(20), now=datetime(2026, 3, 30, 9, tzinfo=UTC))
    assert latest_submission(entry) == second and Submission.objects.filter(pk=first.pk).exists()


def test_extensions_individual_and_npqh_new_headteacher():
    npqh = CourseFactory(programme=Programme.objects.get(code="NPQH"))
    GroupFactory(course=npqh)
    window = window_create(course=npqh, opens_on=date(2027, 4, 1))
    participant = with_engagement(ParticipantFactory(group=npqh.groups.first()), 100)
    entry = entry_for(participant=participant, now=window.opens_at)
    staff = UserFactory()
    late = window.closes_at + timedelta(days=10)
    with pytest.raises(AssessmentError):
        submission_create(entry=entry, text=words(10), now=late)
    entry_extend(entry=entry, until=window.closes_at + timedelta(days=14), reason="Illness", by=staff)
    submission_create(entry=Entry.objects.get(pk=entry.pk), text=words(10), now=late)
    with pytest.raises(AssessmentError, match="at the latest"):
        entry_extend(
            entry=entry,
            until=window.closes_at + timedelta(days=200),
            reason="New head",
            by=staff,
            new_headteacher=True,
        )
    entry_extend(
        entry=entry,
        until=window.closes_at + timedelta(days=170),
        reason="New head",
        by=staff,
        new_headteacher=True,
    )
    with pytest.raises(AssessmentError, match="no extension for teachers new to headship"):
        other = CourseFactory()
        GroupFactory(course=other)
        w = window_create(course=other, opens_on=date(2027, 4, 1))
        e = entry_for(
            participant=with_engagement(ParticipantFactory(group=other.groups.first()), 100), now=w.opens_at
        )
        entry_extend(
            entry=e, until=w.closes_at + timedelta(days=30), reason="x", by=staff, new_headteacher=True
        )


def test_staff_grant_access_extend_and_see_overdue_marking_in_admin(client, window):
    from tests.factories import HubStaffFactory

    group = window.course.groups.first()
    behind = with_engagement(ParticipantFactory(group=group), 50)
    entry = entry_for(participant=behind, now=window.opens_at)
    sam = HubStaffFactory(hub=window.course.cohort.hub)
    client.force_login(sam)
    url = reverse("admin:assessment_entry_change", args=[entry.pk])
    client.post(
        url,
        {
            "grant_reason": "Long-term illness, evidence seen",
            "extend_to": "2026-04-14",
            "extension_reason_text": "Hospital stay",
            "new_headteacher": "",
        },
    )
    entry.refresh_from_db()
    assert entry.access == "granted" and entry.access_granted_by == sam
    assert entry.extended_until.date() == date(2026, 4, 14)
    with time_machine.travel(datetime(2027, 1, 2, 9, tzinfo=UTC), tick=False):
        client.force_login(sam)
        page = client.get(reverse("admin:assessment_window_manage", args=[window.pk])).content.decode()
    assert 'id="overdue"' in page  # marking was due three months after delivery
    other = HubStaffFactory(hub=CourseFactory().cohort.hub)
    client.force_login(other)
    assert client.get(reverse("admin:assessment_window_manage", args=[window.pk])).status_code == 404
    assert client.get(url).status_code == 302  # not found for another hub


def test_files_are_served_only_to_those_allowed(client, window, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    window.case_study_file = SimpleUploadedFile("case-study.pdf", b"%PDF-1.4 case study")
    window.save()
    group = window.course.groups.first()
    allowed = with_engagement(ParticipantFactory(group=group), 95)
    barred = with_engagement(ParticipantFactory(group=group), 40)
    opening = datetime(2026, 3, 24, 9, tzinfo=UTC)
    entry = entry_for(participant=allowed, now=opening)
    entry_for(participant=barred, now=opening)
    submission_create(entry=entry, upload=SimpleUploadedFile("mine.docx", docx(words(50))), now=opening)
    with time_machine.travel(opening, tick=False):
        client.force_login(allowed.user)
        response = client.get(reverse("case_study_file", args=[allowed.pk]))
        assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
        client.force_login(barred.user)
        assert client.get(reverse("case_study_file", args=[barred.pk])).status_code == 404
        assert client.get(reverse("case_study_file", args=[allowed.pk])).status_code == 404
    marker, other = (HubMembershipFactory(hub=window.course.cohort.hub).user for _ in range(2))
    markers_assign(window=window, markers=[marker])
    assignment = MarkingAssignment.objects.get()
    client.force_login(marker)
    response = client.get(reverse("marking_response_file", args=[assignment.pk]))
    assert response.status_code == 200 and response["Content-Disposition"].endswith(
        f'script-{entry.pk}.docx"'
    )
    client.force_login(other)
    assert client.get(reverse("marking_response_file", args=[assignment.pk])).status_code == 404


def test_a_window_added_in_admin_opens_at_the_end_of_delivery_by_default(client):
    from tests.factories import HubStaffFactory

    course = CourseFactory()
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.post(
        reverse("admin:assessment_assessmentwindow_add"),
        {"course": course.pk, "opens_on": "", "case_study_title": "", "case_study_text": "Case"},
    )
    assert response.status_code == 302
    assert course.assessment_window.opens_on == course.delivery_end
