"""Assessment rules: entry, submission, marking, moderation and release. Views only call these."""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from datetime import date, datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.models import User
from engagement.models import EngagementTally
from programmes.models import Course, Participant

from .documents import DocumentError, count_words, read_response
from .models import AssessmentWindow, Entry, MarkingAssignment, Outcome, Submission


class AssessmentError(ValueError):
    """A refusal with a message for the person who asked (shown next to the field)."""


def window_create(*, course: Course, opens_on: date | None = None, **fields) -> AssessmentWindow:
    """The course's window, opening by default when delivery ends."""
    return AssessmentWindow.objects.create(course=course, opens_on=opens_on or course.delivery_end, **fields)


# --- Entry ----------------------------------------------------------------------------------------


def entry_for(*, participant: Participant, now: datetime | None = None) -> Entry | None:
    """The participant's entry once the window has opened (None before). Engagement is read when
    the entry is first made: at the opening job, or the participant's first visit if earlier."""
    now = now or timezone.now()
    window = (
        AssessmentWindow.objects.filter(course_id=participant.course_id)
        .select_related("course__programme")
        .first()
    )
    if window is None or now < window.opens_at:
        return None
    entry = Entry.objects.filter(window=window, participant=participant).first()
    if entry is not None:
        return entry
    tally = EngagementTally.objects.filter(participant=participant).first()
    percent = tally.percent if tally else None
    # on_track compares the exact ratio with the bar; the stored percent is rounded for display.
    eligible = participant.status in Participant.LIVE_STATUSES and percent is not None and tally.on_track
    try:
        with transaction.atomic():
            return Entry.objects.create(
                window=window,
                participant=participant,
                engagement_at_opening=percent,
                access=Entry.Access.ENGAGEMENT if eligible else Entry.Access.NONE,
            )
    except IntegrityError:  # made at the same moment by the opening job
        return Entry.objects.get(window=window, participant=participant)


def window_open_entries(*, window: AssessmentWindow, now: datetime | None = None) -> int:
    """At opening: an entry for every live participant of the course, engagement as it stands."""
    participants = Participant.objects.filter(
        course_id=window.course_id, status__in=Participant.LIVE_STATUSES
    )
    return sum(1 for p in participants if entry_for(participant=p, now=now) is not None)


@transaction.atomic
def entry_grant_access(*, entry: Entry, reason: str, by: User) -> Entry:
    if not reason.strip():
        raise AssessmentError("Give the reason for granting access (the exceptional circumstances).")
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    entry.access, entry.access_reason, entry.access_granted_by = Entry.Access.GRANTED, reason.strip(), by
    entry.save(update_fields=["access", "access_reason", "access_granted_by"])
    return entry


@transaction.atomic
def entry_extend(
    *, entry: Entry, until: datetime, reason: str, by: User, new_headteacher: bool = False
) -> Entry:
    """An individual extension, or the NPQH extension for teachers new to headship (up to 6 months)."""
    from programmes.services import add_months

    entry = Entry.objects.select_for_update().select_related("window__course__programme").get(pk=entry.pk)
    window, programme = entry.window, entry.window.course.programme
    if not reason.strip():
        raise AssessmentError("Give the reason for the extension.")
    if until <= window.closes_at:
        raise AssessmentError("An extension must end after the window closes.")
    if new_headteacher:
        if not programme.assessment_extension_months:
            raise AssessmentError(f"{programme.name} has no extension for teachers new to headship.")
        latest = add_months(window.closes_at.date(), programme.assessment_extension_months)
    else:
        latest = window.marking_due_on
    if until.astimezone(window.closes_at.tzinfo).date() > latest:
        raise AssessmentError(f"The extension can run to {latest:%-d %B %Y} at the latest.")
    entry.extended_until, entry.extension_reason = until, reason.strip()
    entry.save(update_fields=["extended_until", "extension_reason"])
    return entry


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


# --- Marking --------------------------------------------------------------------------------------


def is_current_marker(*, user: User, hub_id: int) -> bool:
    """Marking is for active staff of the script's hub, at the moment they mark."""
    from programmes.models import HubMembership

    return bool(user.is_active and HubMembership.objects.filter(user_id=user.pk, hub_id=hub_id).exists())


@transaction.atomic
def markers_assign(*, window: AssessmentWindow, markers: list[User]) -> int:
    """Give the scripts in the pool (their marker left) and those without a first marker to
    ``markers`` in turn, never to someone who already marked the script. Returns how many."""
    if not markers:
        raise AssessmentError("Choose at least one marker.")
    hub_id = window.course.cohort.hub_id
    for marker in markers:
        if not is_current_marker(user=marker, hub_id=hub_id):
            raise AssessmentError(f"{marker} is not on the staff of {window.course.cohort.hub}.")
    turn = 0

    def next_marker(involved: set[int]) -> User | None:
        nonlocal turn
        for offset in range(len(markers)):
            candidate = markers[(turn + offset) % len(markers)]
            if candidate.pk not in involved:
                turn += offset + 1
                return candidate
        return None

    given = 0
    pooled = (
        MarkingAssignment.objects.select_for_update()
        .filter(entry__window=window, marker__isnull=True)
        .order_by("entry_id", "pk")
    )
    for assignment in pooled:
        involved = set(
            assignment.entry.marking.exclude(marker__isnull=True).values_list("marker_id", flat=True)
        )
        marker = next_marker(involved)
        if marker is not None:
            assignment.marker = marker
            assignment.save(update_fields=["marker"])
            given += 1
    entries = [
        e
        for e in window.entries.filter(access__in=[Entry.Access.ENGAGEMENT, Entry.Access.GRANTED])
        .exclude(marking__role=MarkingAssignment.Role.FIRST)
        .order_by("pk")
        if latest_submission(e) is not None
    ]
    for entry in entries:
        MarkingAssignment.objects.create(
            entry=entry, role=MarkingAssignment.Role.FIRST, marker=next_marker(set())
        )
    return given + len(entries)


def marking_return_to_pool(*, user: User, hub_id: int | None = None) -> int:
    """``user``'s scripts not yet marked (at ``hub_id``, or everywhere) go back to the pool, for
    staff to give to another marker. Marks already given stay. Returns how many."""
    pending = MarkingAssignment.objects.filter(
        marker=user, result="", entry__window__results_released_at__isnull=True
    )
    if hub_id is not None:
        pending = pending.filter(entry__window__course__cohort__hub_id=hub_id)
    return pending.update(marker=None)


def marking_pool_size(*, window: AssessmentWindow) -> int:
    return MarkingAssignment.objects.filter(entry__window=window, marker__isnull=True).count()


@transaction.atomic
def mark(*, assignment: MarkingAssignment, by: User, result: str, feedback: str) -> MarkingAssignment:
    assignment = (
        MarkingAssignment.objects.select_for_update(of=("self",))
        .select_related("entry__window__course__cohort")
        .get(pk=assignment.pk)
    )
    if assignment.marker_id is None or assignment.marker_id != by.pk:
        raise AssessmentError("Only the marker this script was given to can mark it.")
    if not is_current_marker(user=by, hub_id=assignment.entry.window.course.cohort.hub_id):
        raise AssessmentError("Only current staff of the hub can mark its scripts.")
    if assignment.entry.window.results_released_at:
        raise AssessmentError("Results have been released; marks can no longer change.")
    if result not in MarkingAssignment.Result.values:
        raise AssessmentError("Choose pass or fail.")
    if not feedback.strip():
        raise AssessmentError("Enter feedback for the participant.")
    assignment.result, assignment.feedback, assignment.marked_at = result, feedback.strip(), timezone.now()
    assignment.save(update_fields=["result", "feedback", "marked_at"])
    if assignment.role == MarkingAssignment.Role.MODERATION:
        first = assignment.entry.marking.get(role=MarkingAssignment.Role.FIRST)
        if first.result != result:
            _lead_needed(assignment.entry)
    return assignment


def _lead_needed(entry: Entry) -> None:
    """Disagreements go to a lead: the hub's first administrator who marked neither."""
    from programmes.models import HubMembership

    involved = set(entry.marking.exclude(marker__isnull=True).values_list("marker_id", flat=True))
    lead = (
        HubMembership.objects.filter(
            hub=entry.window.course.cohort.hub, role=HubMembership.Role.HUB_ADMIN, user__is_active=True
        )
        .exclude(user_id__in=involved)
        .order_by("pk")
        .first()
    )
    if lead is None:
        raise AssessmentError(
            "A lead marker is needed to resolve a disagreement, but no other hub administrator is available."
        )
    assignment, _ = MarkingAssignment.objects.get_or_create(
        entry=entry, role=MarkingAssignment.Role.LEAD, defaults={"marker": lead.user}
    )
    if assignment.marker_id is None:  # back in the pool: the earlier lead left
        assignment.marker = lead.user
        assignment.save(update_fields=["marker"])


@transaction.atomic
def moderation_sample(
    *, window: AssessmentWindow, moderator: User, share_of_passes: float | None = None
) -> int:
    """Second marking of every fail and a share of the passes (every n-th, in a fixed order)."""
    share = settings.ASSESSMENT_MODERATION_PASS_SHARE if share_of_passes is None else share_of_passes
    if moderator is None:
        raise AssessmentError("Choose a moderator.")
    if not is_current_marker(user=moderator, hub_id=window.course.cohort.hub_id):
        raise AssessmentError(f"{moderator} is not on the staff of {window.course.cohort.hub}.")
    firsts = list(
        MarkingAssignment.objects.filter(entry__window=window, role=MarkingAssignment.Role.FIRST).order_by(
            "entry_id"
        )
    )
    if any(not a.result for a in firsts):
        raise AssessmentError("Moderation starts when every script has its first mark.")
    fails = [a for a in firsts if a.result == MarkingAssignment.Result.FAIL]
    passes = [a for a in firsts if a.result == MarkingAssignment.Result.PASS]
    wanted = math.ceil(len(passes) * share)
    step = len(passes) / wanted if wanted else 0
    sampled = fails + [passes[int(i * step)] for i in range(wanted)]
    created = 0
    for first in sampled:
        if first.marker_id == moderator.pk:
            raise AssessmentError("The moderator must not moderate their own marking.")
        assignment, made = MarkingAssignment.objects.get_or_create(
            entry=first.entry, role=MarkingAssignment.Role.MODERATION, defaults={"marker": moderator}
        )
        if assignment.marker_id is None:  # back in the pool: the earlier moderator left
            assignment.marker = moderator
            assignment.save(update_fields=["marker"])
            made = True
        created += made
    return created


def final_result(entry: Entry) -> str | None:
    marks = {a.role: a for a in entry.marking.all()}
    lead, moderation, first = (marks.get(r) for r in ("lead", "moderation", "first"))
    if lead is not None:
        return lead.result or None
    if moderation is not None:
        if not moderation.result:
            return None
        return moderation.result if moderation.result == first.result else None
    return first.result if first and first.result else None


@transaction.atomic
def results_release(*, window: AssessmentWindow, by: User, now: datetime | None = None) -> int:
    """Release every result of the window together; refused while any is undecided."""
    now = now or timezone.now()
    window = AssessmentWindow.objects.select_for_update().get(pk=window.pk)
    if window.results_released_at:
        raise AssessmentError("The results of this window have already been released.")
    if now <= window.closes_at:
        raise AssessmentError("Results are released after the window closes.")
    outcomes = []
    for entry in window.entries.filter(
        access__in=[Entry.Access.ENGAGEMENT, Entry.Access.GRANTED]
    ).prefetch_related("marking"):
        if latest_submission(entry) is None:
            if entry.closes_at >= now:
                raise AssessmentError(f"{entry.participant.user} has an extension that has not ended.")
            outcomes.append(
                Outcome(
                    entry=entry,
                    result=Outcome.Result.FAILED,
                    feedback="No response was submitted.",
                    decided_at=now,
                )
            )
            continue
        result = final_result(entry)
        if result is None:
            raise AssessmentError(f"{entry.participant.user}'s script has no final mark yet.")
        feedback = next(
            a.feedback
            for role in ("lead", "moderation", "first")
            for a in entry.marking.all()
            if a.role == role
        )
        outcomes.append(
            Outcome(
                entry=entry,
                result=Outcome.Result.PASSED if result == "pass" else Outcome.Result.FAILED,
                feedback=feedback,
                decided_at=now,
            )
        )
    Outcome.objects.bulk_create(outcomes)
    window.results_released_at = now
    window.save(update_fields=["results_released_at"])
    for outcome in outcomes:
        transaction.on_commit(lambda outcome=outcome: _result_email(outcome))
    return len(outcomes)


def _result_email(outcome: Outcome) -> None:
    from notifications.services import notify

    participant = outcome.entry.participant
    notify(
        kind="assessment_result",
        recipient=participant.user.email,
        user=participant.user,
        about=outcome,
        occurrence="released",
        title="Your NPQ assessment result",
        template="assessment_result",
        context={"outcome": outcome, "participant": participant},
        link=settings.SITE_URL + f"/enrolments/{participant.pk}/assessment",
    )


def marking_overdue(window: AssessmentWindow, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return window.results_released_at is None and today > window.marking_due_on
