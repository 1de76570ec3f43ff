"""Assessment uploads against hostile files: zip bombs, broken PDFs, oversized requests, documents
built to be slow to read. How responses are stored, served and counted: test_assessment_responses.py."""

import functools
import io
import re
import struct
import time
import zipfile
import zlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import docx as python_docx
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from assessment.documents import count_words, docx_text
from assessment.models import Entry, Submission
from assessment.services import entry_for, window_create
from assessment.uploads import UploadLimitHandler
from engagement.models import EngagementTally
from tests.factories import CourseFactory, GroupFactory, ParticipantFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
OPEN = datetime(2026, 3, 25, 9, tzinfo=UTC)  # inside the window below
MB = 1024 * 1024


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def entry(media) -> Entry:
    course = CourseFactory()
    group = GroupFactory(course=course, capacity=50)
    window_create(course=course, opens_on=date(2026, 3, 24))
    participant = ParticipantFactory(group=group)
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal(100),
        done_weight=1,
        due_weight=1,
        on_track=True,
        computed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    return entry_for(participant=participant, now=OPEN)


def stored_files(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def post(client, entry, data):
    client.force_login(entry.participant.user)
    with time_machine.travel(OPEN, tick=False):
        return client.post(reverse("participant_assessment", args=[entry.participant.pk]), data)


def error_next_to_file(response) -> str:
    html = response.content.decode()
    assert "<title>Error: " in html
    found = re.search(r'<p class="govuk-error-message" id="id_file-error">.*?</span>\s*(.*?)</p>', html, re.S)
    assert found, "no error message next to the upload field"
    return found.group(1)


# --- Building files -------------------------------------------------------------------------------


def docx(*paragraphs: str) -> bytes:
    document = python_docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def repack(
    data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """The archive again, with some members replaced or added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, content in add.items():
            target.writestr(name, content)
    return out.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """The archive with ``member``'s uncompressed size in the central directory changed to ``size``."""
    data = bytearray(data)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (name_length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


@functools.cache
def padded_docx(padding_mb: int) -> bytes:
    """A real two-word response whose document.xml carries ``padding_mb`` MB of blank space: a
    small file that expands enormously (a zip bomb)."""
    original = docx("My response")
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        xml = archive.read("word/document.xml")
    bomb = xml.replace(b"</w:body>", b" " * (padding_mb * MB) + b"</w:body>")
    return repack(original, replace={"word/document.xml": bomb})


def pdf(content: bytes, stream_extra: bytes = b"") -> bytes:
    """A one-page PDF whose page content stream is ``content`` (Helvetica as F1)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), stream_extra) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def text_pdf(text: str) -> bytes:
    return pdf(b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode())


@functools.cache
def pdf_bomb() -> bytes:
    """A 100 KB PDF whose one content stream inflates to 80 MB."""
    compressor = zlib.compressobj(9)
    stream = b"".join(compressor.compress(b" " * MB) for _ in range(80)) + compressor.flush()
    return pdf(stream, b" /Filter /FlateDecode")


# --- Zip bombs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, make",
    [
        ("30 MB of document.xml", lambda: padded_docx(30)),
        ("5 MB of document.xml at over 100 to 1", lambda: padded_docx(5)),
        (
            "a member declaring 4 GB",
            lambda: declare_size(docx("My response"), "word/document.xml", 0xF000_0000),
        ),
        (
            "a member hiding 30 MB behind 2 KB declared",
            lambda: declare_size(padded_docx(30), "word/document.xml", 2048),
        ),
        ("1,200 members", lambda: repack(docx("My response"), add={f"x/{i}.xml": b"" for i in range(1200)})),
    ],
)
def test_a_zip_bomb_docx_is_refused_at_once_with_a_message_and_nothing_stored(
    client, entry, media, name, make
):
    bomb = make()
    assert len(bomb) < 200_000, "the bomb is small; what it would expand to is not"
    started = time.monotonic()
    response = post(client, entry, {"file": SimpleUploadedFile("response.docx", bomb)})
    elapsed = time.monotonic() - started
    message = error_next_to_file(response)
    assert message.startswith("The selected Word document") and "could not be read" in message
    assert elapsed < 3, f"{name}: took {elapsed:.1f}s"
    assert not Submission.objects.exists()
    assert stored_files(media) == []


def test_the_archive_is_checked_before_python_docx_opens_it(monkeypatch):
    opened = []
    monkeypatch.setattr(python_docx, "Document", lambda *args: opened.append(args))
    with pytest.raises(ValueError, match="far more data than a response needs"):
        docx_text(padded_docx(30))
    assert opened == []


# --- PDFs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (pdf_bomb, "holds more data than a response needs"),  # pypdf's LimitReachedError
        (
            lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer <<>>\n",
            "could not be read",
        ),
        (lambda: text_pdf("fine")[:300], "could not be read"),  # cut short
    ],
)
def test_a_broken_or_limit_reaching_pdf_is_refused_with_a_message(client, entry, media, content, expected):
    response = post(client, entry, {"file": SimpleUploadedFile("response.pdf", content())})
    assert response.status_code == 200
    message = error_next_to_file(response)
    assert "PDF" in message and expected in message
    assert not Submission.objects.exists() and stored_files(media) == []


# --- Oversized requests ---------------------------------------------------------------------------


@pytest.fixture
def reached_storage(monkeypatch) -> list[int]:
    """Bytes of uploaded files that reached Django's memory and temporary-file handlers."""
    received: list[int] = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.receive_data_chunk

        def spy(self, raw_data, start, original=original):
            received.append(len(raw_data))
            return original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", spy)
    return received


def test_a_request_over_the_limit_is_refused_before_the_file_is_read(
    client, entry, media, settings, reached_storage
):
    settings.ASSESSMENT_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("response.docx", docx("My response") + b"\0" * (2 * MB))
    response = post(client, entry, {"text": "", "file": big})
    assert response.status_code == 413
    assert error_next_to_file(response) == "The selected file must be smaller than 1 MB."
    assert reached_storage == []  # not one byte kept in memory or written to a temporary file
    assert not Submission.objects.exists() and stored_files(media) == []
    # Under the limit the same page takes the file.
    response = post(client, entry, {"text": "", "file": SimpleUploadedFile("r.docx", docx("My response"))})
    assert response.status_code == 302 and Submission.objects.get().word_count == 2
    assert sum(reached_storage) > 0


def test_typed_text_over_the_form_field_limit_is_refused_with_a_message(client, entry, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(client, entry, {"text": "word " * 5000})
    assert response.status_code == 413
    assert re.search(
        r'id="id_text-error".*Your response is too long to submit', response.content.decode(), re.S
    )
    assert not Submission.objects.exists()


def test_the_upload_handler_stops_at_the_limit_even_when_the_declared_length_is_wrong():
    body = encode_multipart(
        BOUNDARY, {"csrfmiddlewaretoken": "t", "file": SimpleUploadedFile("r.pdf", b"x" * 300_000)}
    )
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": "1000"}  # understated
    limit, memory = UploadLimitHandler(max_bytes=100_000), MemoryFileUploadHandler()
    memory.activated = True
    post_data, files = MultiPartParser(meta, io.BytesIO(body), [limit, memory]).parse()
    assert limit.refused and not files and post_data["csrfmiddlewaretoken"] == "t"


def test_the_proxy_in_front_refuses_bodies_over_the_same_limit(settings):
    """Gunicorn cannot limit a body; the nginx in docker-compose.yml does, with the same number."""
    template = (settings.BASE_DIR / "deploy/nginx/default.conf.template").read_text()
    compose = (settings.BASE_DIR / "docker-compose.yml").read_text()
    server_level = template.split("location")[0]
    assert "client_max_body_size ${ASSESSMENT_MAX_UPLOAD_MB}m;" in server_level
    assert "./deploy/nginx/default.conf.template:/etc/nginx/templates/default.conf.template" in compose
    assert compose.count("ASSESSMENT_MAX_UPLOAD_MB: ${ASSESSMENT_MAX_UPLOAD_MB:-10}") == 2  # web and proxy


def docx_with_document_xml(document_xml: bytes) -> bytes:
    """A real .docx (python-docx's own package) whose body is replaced by ``document_xml``."""
    source = io.BytesIO()
    python_docx.Document().save(source)
    out = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            data = document_xml if item.filename == "word/document.xml" else original.read(item)
            copy.writestr(item, data)
    return out.getvalue()


def many_empty_runs(runs: int) -> bytes:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = b"<w:r/>" * runs
    return (
        f"<w:document {w}><w:body><w:p><w:r><w:t>real words here</w:t></w:r>".encode()
        + body
        + b"</w:p></w:body></w:document>"
    )


def test_a_document_of_millions_of_empty_runs_is_refused_at_once(client, entry, media):
    # Found in review: 2.7 million empty runs (1.3 MB upload, no cap reached) took 290 s of CPU.
    data = docx_with_document_xml(many_empty_runs(1_000_000))
    started = time.monotonic()
    response = post(client, entry, {"file": SimpleUploadedFile("essay.docx", data)})
    assert time.monotonic() - started < 10
    assert "far more data than a response needs" in error_next_to_file(response)
    assert not Submission.objects.exists() and stored_files(media) == []


def test_reading_a_large_but_allowed_document_costs_time_in_proportion_to_its_size(media):
    # 140,000 runs in a 1 MB document.xml took 57 s when each run's text was an XPath query.
    data = docx_with_document_xml(many_empty_runs(140_000))
    started = time.monotonic()
    assert count_words(docx_text(data)) == 3
    assert time.monotonic() - started < 10
