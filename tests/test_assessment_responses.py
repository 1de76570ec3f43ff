"""Assessment responses as stored and served: names that lie about the type, storage filled by
resubmitting, and one word count for typed and uploaded text (hostile files: test_assessment_uploads.py)."""

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import docx as python_docx
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessment.documents import count_words, docx_text
from assessment.models import MarkingAssignment, Submission
from assessment.services import AssessmentError, markers_assign, submission_create
from tests import test_assessment_uploads
from tests.factories import CourseFactory, HubMembershipFactory
from tests.test_assessment_uploads import OPEN, docx, post, stored_files, text_pdf

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
# The fixtures, shared with test_assessment_uploads.py.
media = test_assessment_uploads.media
entry = test_assessment_uploads.entry


# --- Names and serving ----------------------------------------------------------------------------


def test_a_pdf_named_evil_html_is_stored_as_pdf_and_served_as_a_pdf_attachment(client, entry, media):
    response = post(
        client, entry, {"text": "", "file": SimpleUploadedFile("evil.html", text_pdf("Hello brave world"))}
    )
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.word_count == 3
    assert re.fullmatch(r"submissions/\d{4}/[0-9a-f]{32}\.pdf", submission.file.name), submission.file.name
    assert "evil" not in "".join(stored_files(media))
    marker = HubMembershipFactory(hub=entry.window.course.cohort.hub).user
    markers_assign(window=entry.window, markers=[marker])
    client.force_login(marker)
    download = client.get(reverse("marking_response_file", args=[MarkingAssignment.objects.get().pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="script-{entry.pk}.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_stored_file_is_served_by_what_it_is_not_by_its_stored_name(client, entry, media):
    """Files stored before names were ours keep the client's name; the download ignores it."""
    submission_create(entry=entry, upload=SimpleUploadedFile("r.docx", docx("My response")), now=OPEN)
    submission = Submission.objects.get()
    submission.file.save("page.html", SimpleUploadedFile("page.html", text_pdf("Hello")), save=True)
    marker = HubMembershipFactory(hub=entry.window.course.cohort.hub).user
    markers_assign(window=entry.window, markers=[marker])
    client.force_login(marker)
    download = client.get(reverse("marking_response_file", args=[MarkingAssignment.objects.get().pk]))
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_case_study_is_served_as_an_attachment_of_its_detected_type(client, entry, media):
    window = entry.window
    window.case_study_file = SimpleUploadedFile("case.html", b"<script>alert(1)</script>")
    window.save()
    client.force_login(entry.participant.user)
    with time_machine.travel(OPEN, tick=False):
        download = client.get(reverse("case_study_file", args=[entry.participant.pk]))
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == 'attachment; filename="case-study.bin"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_staff_upload_a_case_study_as_docx_or_pdf_only_stored_under_our_name(client, media):
    from tests.factories import HubStaffFactory

    course = CourseFactory()
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:assessment_assessmentwindow_add")
    fields = {"course": course.pk, "opens_on": "", "case_study_title": "", "case_study_text": "Case"}
    refused = client.post(url, {**fields, "case_study_file": SimpleUploadedFile("case.pdf", b"<html>")})
    assert (
        refused.status_code == 200 and "must be a Word document (.docx) or a PDF" in refused.content.decode()
    )
    client.post(url, {**fields, "case_study_file": SimpleUploadedFile("case.html", text_pdf("Case"))})
    assert re.fullmatch(r"case-studies/[0-9a-f]{32}\.pdf", course.assessment_window.case_study_file.name)


# --- Resubmissions --------------------------------------------------------------------------------


def test_only_the_latest_resubmissions_are_kept_and_older_files_deleted(
    entry, media, settings, django_capture_on_commit_callbacks
):
    settings.ASSESSMENT_MAX_SUBMISSIONS_KEPT = 3
    made = []
    for day in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            made.append(
                submission_create(
                    entry=entry,
                    upload=SimpleUploadedFile("r.docx", docx(f"Version {day}")),
                    now=datetime(2026, 3, 25 + day, 9, tzinfo=UTC),
                )
            )
    kept = list(Submission.objects.order_by("submitted_at"))
    assert kept == made[2:]
    assert stored_files(media) == sorted(s.file.name for s in kept)
    with django_capture_on_commit_callbacks(execute=True):
        submission_create(entry=entry, text="Typed at last", now=datetime(2026, 3, 30, 9, tzinfo=UTC))
    assert Submission.objects.count() == 3 and len(stored_files(media)) == 2


def test_typing_and_uploading_at_once_is_refused(entry):
    with pytest.raises(AssessmentError, match="not both"):
        submission_create(
            entry=entry, text="Typed", upload=SimpleUploadedFile("r.docx", docx("Up")), now=OPEN
        )


# --- Word counts ----------------------------------------------------------------------------------

SAME_TEXT = [
    "Pupils' progress & attainment: <5% of Year 7 fell behind – the school's well-being plan.",
    "Then\tcame the second-half review (2024/25), with 3 actions.",
    "Ofsted’s view: “good”.",
]


def test_the_same_text_typed_or_uploaded_as_docx_has_the_same_count(client, entry, media):
    typed = count_words("\n".join(SAME_TEXT))
    assert typed == 26
    first = post(client, entry, {"text": "\r\n".join(SAME_TEXT)})
    second = post(client, entry, {"text": "", "file": SimpleUploadedFile("r.docx", docx(*SAME_TEXT))})
    assert first.status_code == second.status_code == 302
    assert [s.word_count for s in Submission.objects.order_by("pk")] == [typed, typed]


def test_what_counts_in_a_word_document(media):
    """Body and tables (merged cells once) count; headers, footers, deletions and field codes do not."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = python_docx.Document()
    document.add_paragraph("one two three")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "four five"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "six"
    section = document.sections[0]
    section.header.paragraphs[0].text = "header words are not counted"
    section.footer.paragraphs[0].text = "nor are footer words"
    tracked = document.add_paragraph("seven")
    tracked._p.append(
        parse_xml(f"<w:del {nsdecls('w')}><w:r><w:delText>deleted words</w:delText></w:r></w:del>")
    )
    tracked._p.append(parse_xml(f"<w:ins {nsdecls('w')}><w:r><w:t> eight</w:t></w:r></w:ins>"))
    tracked._p.append(
        parse_xml(f"<w:r {nsdecls('w')}><w:instrText> PAGE \\* MERGEFORMAT </w:instrText></w:r>")
    )
    buffer = io.BytesIO()
    document.save(buffer)
    assert count_words(docx_text(buffer.getvalue())) == 8
