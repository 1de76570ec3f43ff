"""Submissions: a typed or uploaded response, in time and within the word limit; the latest counts."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from ..documents import DocumentError, count_words, read_response
from ..models import Entry, Submission
from .entries import AssessmentError

# --- Submission -----------------------------------------------------------------------------------


@transaction.atomic
def submission_create(
    *, entry: Entry, text: str = "", upload: UploadedFile | None = None, now: datetime | None = None
) -> Submission:
    """Submit (or resubmit) a response: in time, by someone with access, within the word limit."""
    now = now or timezone.now()
    entry = (
        Entry.objects.select_for_update()
        .select_related("window__course__programme", "participant__user")
        .get(pk=entry.pk)
    )
    if not entry.may_submit:
        raise AssessmentError("You do not have access to this assessment.")
    if now < entry.window.opens_at:
        raise AssessmentError("The assessment window has not opened yet.")
    if now > entry.closes_at:
        raise AssessmentError(
            f"The assessment closed at {timezone.localtime(entry.closes_at):%-I:%M%p on %-d %B %Y}. Submissions are no longer accepted."
        )
    text = text.strip()
    if not text and upload is None:
        raise AssessmentError("Enter your response or upload it as a .docx or .pdf file.")
    if text and upload is not None:
        raise AssessmentError("Type your response or upload it as a file, not both.")
    response = None
    if upload is not None:
        try:
            response = read_response(upload)
        except DocumentError as exc:
            raise AssessmentError(str(exc)) from exc
    words = count_words(text or response.text)
    limit = entry.window.course.programme.max_response_words
    if words > limit:
        raise AssessmentError(
            f"Your response has {words:,} word{pluralize(words)}. It must be {limit:,} words or fewer."
        )
    submission = Submission(entry=entry, text=text, word_count=words, submitted_at=now)
    if upload is not None:
        submission.original_name = shown_file_name(upload.name)
    if response is not None:
        # A name of our making with the extension of what the file is, never the participant's.
        submission.file.save(f"{uuid.uuid4().hex}.{response.kind}", upload, save=False)
    submission.save()
    _submissions_prune(entry=entry, keep=submission)
    transaction.on_commit(lambda: _receipt(submission))
    return submission


def shown_file_name(name: str | None) -> str:
    """The uploaded file's own name, for showing back to the participant: the last part of any
    path, without control characters, at most 255 characters (keeping the extension)."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 254 - len(extension)]}.{extension}" if dot and len(extension) < 20 else name[:255]
    return name


def _submissions_prune(*, entry: Entry, keep: Submission) -> None:
    """Keep the entry's latest ``ASSESSMENT_MAX_SUBMISSIONS_KEPT`` submissions; delete older ones
    and, once the deletion is committed, their files."""
    older = list(
        entry.submissions.exclude(pk=keep.pk).order_by("-submitted_at", "-pk")[
            max(settings.ASSESSMENT_MAX_SUBMISSIONS_KEPT - 1, 0) :
        ]
    )
    if not older:
        return
    files = [s.file.name for s in older if s.file]
    Submission.objects.filter(pk__in=[s.pk for s in older]).delete()

    def delete_files() -> None:
        storage = Submission._meta.get_field("file").storage
        for name in files:
            storage.delete(name)

    transaction.on_commit(delete_files)


def _receipt(submission: Submission) -> None:
    from notifications.services import notify

    participant = submission.entry.participant
    notify(
        kind="submission_receipt",
        recipient=participant.user.email,
        user=participant.user,
        about=submission,
        occurrence="receipt",
        title="We have received your NPQ assessment",
        template="submission_receipt",
        context={"submission": submission, "participant": participant},
        link=settings.SITE_URL + f"/enrolments/{participant.pk}/assessment",
    )


def latest_submission(entry: Entry) -> Submission | None:
    """The response that counts: the latest one made before the entry closed."""
    return entry.submissions.filter(submitted_at__lte=entry.closes_at).order_by("-submitted_at").first()
