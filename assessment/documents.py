"""Reading a participant's response: what a file is (by its bytes, never its name), its words, and
the limits that keep a hostile file from costing the server more than a real one would.

A .docx is a zip archive. Before python-docx sees it, the archive's declared sizes, compression
ratios and number of members are checked and every member is read through in small pieces with a
hard cap, so a 2 MB file that expands to gigabytes is refused after reading at most the cap.
PDFs are read by pypdf under tighter limits than its defaults; any error it raises is a refusal.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger(__name__)

WORD = re.compile(r"[\w'’-]+")

MB = 1024 * 1024
# Limits on a .docx archive. A response of a few thousand words has a document.xml well under
# 1 MB and a whole package of a few MB even with pictures; these leave a wide margin.
DOCX_MAX_MEMBERS = 1000
DOCX_MAX_MEMBER_BYTES = 20 * MB  # any one part once decompressed (document.xml included)
DOCX_MAX_TOTAL_BYTES = 50 * MB  # every part once decompressed
DOCX_MAX_RATIO = 100  # decompressed / compressed, for parts over DOCX_RATIO_FROM_BYTES
DOCX_RATIO_FROM_BYTES = 1 * MB
READ_CHUNK = 64 * 1024
# XML elements in the document body: a response of a few thousand words has tens of thousands;
# a hostile file of millions of empty runs passes the byte caps but not this.
DOCX_MAX_ELEMENTS = 500_000
# Limits on a PDF: pages, and bytes any one stream may decompress to.
PDF_MAX_PAGES = 100
PDF_MAX_STREAM_BYTES = 20 * MB

NOT_A_DOCUMENT = "The selected file must be a Word document (.docx) or a PDF."
DOCX_UNREADABLE = "The selected Word document could not be read. Save it again as a .docx file and upload it."
DOCX_TOO_BIG = (
    "The selected Word document holds far more data than a response needs and could not be read. "
    "Save it again without large embedded files and upload it."
)
PDF_UNREADABLE = "The selected PDF could not be read. Save it again as a PDF and upload it."
PDF_TOO_BIG = (
    "The selected PDF holds more data than a response needs and could not be read. Save it again "
    "as a PDF (without large embedded files) and upload it."
)

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
# Text in these is not part of the response as read: tracked deletions, the source of a tracked
# move, and the fallback copy of a text box (its first copy, in mc:Choice, is counted).
NOT_READ = {f"{{{W}}}del", f"{{{W}}}moveFrom", f"{{{MC}}}Fallback"}
PARAGRAPH, RUN = f"{{{W}}}p", f"{{{W}}}r"
# What a run's text is made of (as python-docx reads ``run.text``): text, tabs and breaks.
RUN_TEXT = {
    f"{{{W}}}t": None,  # its own text
    f"{{{W}}}tab": "\t",
    f"{{{W}}}ptab": "\t",
    f"{{{W}}}br": "\n",
    f"{{{W}}}cr": "\n",
    f"{{{W}}}noBreakHyphen": "-",
}


class DocumentError(ValueError):
    """A file refused, with a message for the participant (shown next to the upload field)."""


@dataclass(frozen=True)
class Response:
    kind: str  # "pdf" or "docx": the extension the file is stored and served with
    text: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def count_words(text: str) -> int:
    """Words in a response, the same rule for typed text and for the text of an uploaded file."""
    return len(WORD.findall(text))


def kind_of(head: bytes) -> str | None:
    """What a file is from its first bytes: "pdf", "docx" (any zip; opened to confirm) or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    return None


def max_upload_bytes() -> int:
    return settings.ASSESSMENT_MAX_UPLOAD_MB * MB


def too_large_message() -> str:
    return f"The selected file must be smaller than {settings.ASSESSMENT_MAX_UPLOAD_MB} MB."


def read_response(upload: UploadedFile) -> Response:
    """The kind and the text of an uploaded response, or DocumentError saying why not."""
    if upload.size is None or upload.size > max_upload_bytes():
        raise DocumentError(too_large_message())
    upload.seek(0)
    data = upload.read(max_upload_bytes() + 1)
    upload.seek(0)
    if len(data) > max_upload_bytes():
        raise DocumentError(too_large_message())
    kind = kind_of(data[:8])
    if kind == "pdf":
        return Response("pdf", _pdf_text(data))
    if kind == "docx":
        return Response("docx", docx_text(data))
    raise DocumentError(NOT_A_DOCUMENT)


# --- .docx ----------------------------------------------------------------------------------------


def docx_text(data: bytes) -> str:
    """The words of a Word document's body, after checking the archive is safe to open.

    Counted: body paragraphs, tables (nested too), content controls, text boxes and tracked
    insertions. Not counted: headers, footers, footnotes, endnotes and comments (other parts),
    tracked deletions and field codes. See docs/decisions.md.
    """
    check_archive(data)
    from docx import Document
    from docx.opc.exceptions import OpcError

    try:
        document = Document(io.BytesIO(data))
    except ValueError as exc:  # a zip that is not a Word document (e.g. a spreadsheet)
        raise DocumentError(NOT_A_DOCUMENT) from exc
    except (OpcError, KeyError, zipfile.BadZipFile, SyntaxError) as exc:  # lxml's errors are SyntaxErrors
        raise DocumentError(DOCX_UNREADABLE) from exc
    except Exception as exc:  # any other failure of a malformed package: a refusal, never a 500
        logger.warning("Word document refused: %r", exc)
        raise DocumentError(DOCX_UNREADABLE) from exc
    return _body_text(document.element.body)


def _body_text(body) -> str:
    """The body's paragraphs, each with the text of its own runs, in one pass over the XML.

    One pass (not python-docx's ``run.text``, an XPath query per run) so that the cost follows
    the size of the file: a text box inside a run is a paragraph of its own; anything inside
    NOT_READ is skipped; more than DOCX_MAX_ELEMENTS elements is refused.
    """
    from lxml import etree

    paragraphs: list[list[str]] = []
    open_paragraphs: list[tuple[list[str], list[int]]] = []  # (its text, [runs open in it])
    skipping = 0
    elements = 0
    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag
        if event == "start":
            elements += 1
            if elements > DOCX_MAX_ELEMENTS:
                raise DocumentError(DOCX_TOO_BIG)
        if tag in NOT_READ:
            skipping += 1 if event == "start" else -1
            continue
        if skipping:
            continue
        if tag == PARAGRAPH:
            if event == "start":
                pieces: list[str] = []
                paragraphs.append(pieces)
                open_paragraphs.append((pieces, [0]))
            else:
                open_paragraphs.pop()
        elif not open_paragraphs:
            continue
        elif tag == RUN:
            open_paragraphs[-1][1][0] += 1 if event == "start" else -1
        elif event == "start" and tag in RUN_TEXT and open_paragraphs[-1][1][0]:
            text = RUN_TEXT[tag]
            open_paragraphs[-1][0].append(element.text or "" if text is None else text)
    return "\n".join("".join(pieces) for pieces in paragraphs)


def check_archive(data: bytes) -> None:
    """Refuse a zip that would cost more to open than a real response: too many members, a member
    or the whole declared too large or too compressed, or content beyond its declared size.
    Every member is then read through in small pieces, stopping at the caps."""
    if _declared_members(data) > DOCX_MAX_MEMBERS:
        raise DocumentError(DOCX_UNREADABLE)
    too_big = DocumentError(DOCX_TOO_BIG)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > DOCX_MAX_MEMBERS:
                raise DocumentError(DOCX_UNREADABLE)
            if sum(m.file_size for m in members) > DOCX_MAX_TOTAL_BYTES:
                raise too_big
            for member in members:
                if member.flag_bits & 0x1:
                    raise DocumentError(
                        "The selected Word document is password protected. Remove the password and upload it."
                    )
                if member.file_size > DOCX_MAX_MEMBER_BYTES:
                    raise too_big
                if member.file_size > DOCX_RATIO_FROM_BYTES and (
                    member.file_size > DOCX_MAX_RATIO * max(member.compress_size, 1)
                ):
                    raise too_big
            total = 0
            for member in members:
                read = 0
                with archive.open(member) as stream:
                    while chunk := stream.read(READ_CHUNK):
                        read += len(chunk)
                        total += len(chunk)
                        if read > DOCX_MAX_MEMBER_BYTES or total > DOCX_MAX_TOTAL_BYTES:
                            raise too_big
    except DocumentError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        # A broken archive, a bad checksum (content beyond its declared size), an unknown method.
        raise DocumentError(DOCX_UNREADABLE) from exc
    except (ValueError, OverflowError, zlib.error, struct.error) as exc:  # zipfile on mangled headers
        raise DocumentError(DOCX_UNREADABLE) from exc


def _declared_members(data: bytes) -> int:
    """Members the archive's end record declares, read before zipfile builds its list of them."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise DocumentError(DOCX_UNREADABLE)
    (total,) = struct.unpack_from("<H", data, end + 10)
    return DOCX_MAX_MEMBERS + 1 if total == 0xFFFF else total  # 0xFFFF: zip64, never needed here


# --- PDF ------------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PyPdfError

    decompressed = (
        "maximum_declared_stream_length",
        "array_based_stream_maximum_output_length",
        "jbig2_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "zlib_maximum_output_length",
        "brotli_maximum_output_length",
        "image_maximum_buffer_size",
    )
    limits = dict.fromkeys(decompressed, PDF_MAX_STREAM_BYTES)
    try:
        with apply_configuration(**limits, page_tree_maximum_entries=PDF_MAX_PAGES * 10):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):  # "" opens restrictions-only PDFs
                raise DocumentError(
                    "The selected PDF is password protected. Remove the password and upload it."
                )
            if len(reader.pages) > PDF_MAX_PAGES:
                raise DocumentError(
                    f"The selected PDF has more than {PDF_MAX_PAGES} pages. Upload your response only."
                )
            return "\n".join(page.extract_text() or "" for page in reader.pages)
    except DocumentError:
        raise
    except LimitReachedError as exc:
        raise DocumentError(PDF_TOO_BIG) from exc
    except PyPdfError as exc:
        raise DocumentError(PDF_UNREADABLE) from exc
    except Exception as exc:  # pypdf raises many built-in errors on malformed files; never a 500
        logger.warning("PDF refused: %r", exc)
        raise DocumentError(PDF_UNREADABLE) from exc
