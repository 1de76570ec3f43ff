"""Participant and marker pages of the summative assessment."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from engagement.views import own_enrolment
from programmes.models import HubMembership

from .documents import CONTENT_TYPES, kind_of, too_large_message
from .models import MarkingAssignment, Outcome
from .services import AssessmentError, entry_for, latest_submission, mark, submission_create
from .uploads import UploadLimitHandler


class SubmissionForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 15}),
        required=False,
        label="Your response",
        help_text="Type or paste your response here, or upload it below.",
    )
    file = forms.FileField(
        required=False, label="Or upload your response", help_text="A Word document (.docx) or a PDF."
    )


@login_required
@require_http_methods(["GET", "POST"])
@csrf_exempt  # checked in _participant_assessment, once the upload limit is in place (see Django's docs)
def participant_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    """The request body is read under the upload limit: a file over it is never stored, not even
    in a temporary file, and the participant is told why next to the upload field."""
    upload_limit = UploadLimitHandler(request)
    request.upload_handlers.insert(0, upload_limit)
    if request.method == "POST":
        try:
            request.POST  # noqa: B018 - read the body now, under the limit
        except RequestDataTooBig:  # typed fields over DATA_UPLOAD_MAX_MEMORY_SIZE
            return _refused(
                request, pk, "text", "Your response is too long to submit. Shorten it and try again."
            )
        if upload_limit.refused:
            return _refused(request, pk, "file", too_large_message())
    return _participant_assessment(request, pk)


@csrf_protect
def _participant_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the participant's own enrolment; access, time and length are checked by the service."""
    participant = own_enrolment(request, pk)
    entry = entry_for(participant=participant)
    form = SubmissionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if entry is None or not entry.may_submit:
            return render(
                request, "assessment/no_access.html", {"participant": participant, "entry": entry}, status=403
            )
        if form.is_valid():
            try:
                submission_create(
                    entry=entry, text=form.cleaned_data["text"], upload=form.cleaned_data["file"]
                )
            except AssessmentError as exc:
                form.add_error("file" if form.cleaned_data["file"] else "text", str(exc))
            else:
                messages.success(request, "Your response has been submitted. We have emailed you a receipt.")
                return redirect("participant_assessment", pk)
    return _assessment_page(request, participant, entry, form)


def _refused(request: HttpRequest, pk: int, field: str, message: str) -> HttpResponse:
    """The page again with ``message`` next to ``field``, for a request refused while it was read
    (nothing of it is kept, so no CSRF check is needed)."""
    participant = own_enrolment(request, pk)
    form = SubmissionForm(data={})
    form.is_valid()
    form.add_error(field, message)
    return _assessment_page(request, participant, entry_for(participant=participant), form, status=413)


def _assessment_page(request, participant, entry, form, status: int = 200) -> HttpResponse:
    window = entry.window if entry else getattr(participant.course, "assessment_window", None)
    outcome = None
    if entry is not None and entry.window.results_released_at:
        outcome = Outcome.objects.filter(entry=entry).first()
    now = timezone.now()
    return render(
        request,
        "assessment/participant.html",
        {
            "participant": participant,
            "entry": entry,
            "window": window,
            "form": form,
            "outcome": outcome,
            "submissions": list(entry.submissions.all()) if entry else [],
            "counted": latest_submission(entry) if entry else None,
            "is_open": bool(entry and entry.may_submit and entry.window.opens_at <= now <= entry.closes_at),
            "max_words": participant.course.programme.max_response_words,
            "hub": participant.course.cohort.hub,
            "max_upload_mb": settings.ASSESSMENT_MAX_UPLOAD_MB,
        },
        status=status,
    )


def own_marking(request: HttpRequest) -> QuerySet[MarkingAssignment]:
    """The scripts given to the signed-in marker, at hubs whose staff they are now (checked at
    every request: someone who left a hub or was deactivated sees none of its scripts)."""
    user = request.user
    if not user.is_active:
        return MarkingAssignment.objects.none()
    return MarkingAssignment.objects.filter(
        marker=user,
        entry__window__course__cohort__hub__in=HubMembership.objects.filter(user=user).values("hub_id"),
    )


@login_required
def marking_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_active or not (user.is_superuser or HubMembership.objects.filter(user=user).exists()):
        raise Http404  # marking is for current hub staff
    assignments = (
        own_marking(request)
        .select_related("entry__participant__user", "entry__window__course__programme")
        .order_by("marked_at", "pk")
    )
    return render(request, "assessment/marking_list.html", {"assignments": assignments})


class MarkForm(forms.Form):
    result = forms.ChoiceField(
        choices=MarkingAssignment.Result.choices,
        widget=forms.RadioSelect,
        label="Result",
        error_messages={"required": "Choose pass or fail"},
    )
    feedback = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Feedback for the participant",
        error_messages={"required": "Enter feedback for the participant"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def marking_script(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """A marker sees only the scripts assigned to them: anything else is 404."""
    assignment = get_object_or_404(
        own_marking(request).select_related("entry__participant__user", "entry__window__course__programme"),
        pk=assignment_id,
    )
    form = MarkForm(
        request.POST or None, initial={"result": assignment.result, "feedback": assignment.feedback}
    )
    if request.method == "POST" and form.is_valid():
        try:
            mark(
                assignment=assignment,
                by=request.user,
                result=form.cleaned_data["result"],
                feedback=form.cleaned_data["feedback"],
            )
        except AssessmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Mark saved.")
            return redirect(reverse("marking_list"))
    return render(
        request,
        "assessment/marking_script.html",
        {
            "assignment": assignment,
            "submission": latest_submission(assignment.entry),
            "form": form,
        },
    )


@login_required
def case_study_file(request: HttpRequest, pk: int) -> FileResponse:
    """The case study file, for a participant with access once the window is open (never a public URL)."""
    participant = own_enrolment(request, pk)
    entry = entry_for(participant=participant)
    if entry is None or not entry.may_submit or not entry.window.case_study_file:
        raise Http404
    return _download(entry.window.case_study_file, "case-study")


@login_required
def own_response_file(request: HttpRequest, pk: int) -> FileResponse:
    """The participant's own uploaded response (the one that counts), for them only."""
    participant = own_enrolment(request, pk)
    entry = entry_for(participant=participant)
    submission = latest_submission(entry) if entry is not None else None
    if submission is None or not submission.file:
        raise Http404
    return _download(submission.file, "your-response")


@login_required
def response_file(request: HttpRequest, assignment_id: int) -> FileResponse:
    """A script's uploaded response, for the marker it was given to only."""
    assignment = get_object_or_404(own_marking(request), pk=assignment_id)
    submission = latest_submission(assignment.entry)
    if submission is None or not submission.file:
        raise Http404
    return _download(submission.file, f"script-{assignment.entry_id}")


def _download(file: FieldFile, stem: str) -> FileResponse:
    """A stored file as a download: its type (and the extension of ``stem``) from what its bytes
    are, never from a name, and never rendered or sniffed by the browser."""
    handle = file.open("rb")
    kind = kind_of(handle.read(8))
    handle.seek(0)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{stem}.{kind or 'bin'}",
        content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
