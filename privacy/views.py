"""The privacy notice, and a person's own copies of their data."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template

from programmes.models import Hub

from .models import AccessLogEntry, SubjectAccessExport
from .retention import schedule_rows
from .services import access_record, export_request, may_download, person_hub_ids


def privacy_notice(request: HttpRequest) -> HttpResponse:
    """What the portal collects, why, on what basis, who sees it and how long it is kept. The
    words come from a template a hub may override (privacy/notice_text_hub_<id>.html), else the
    portal's (PRIVACY_NOTICE_TEMPLATE); the retention table is the schedule itself."""
    hub = None
    hub_id = request.GET.get("hub", "")
    if hub_id.isascii() and hub_id.isdigit():  # not '²', a digit int() refuses
        hub = Hub.objects.filter(pk=int(hub_id)).first()
    names = [f"privacy/notice_text_hub_{hub.pk}.html"] if hub else []
    names.append(settings.PRIVACY_NOTICE_TEMPLATE)
    return render(
        request,
        "privacy/notice.html",
        {
            "notice_text": select_template(names).template.name,
            "hub": hub,
            "controller": hub.name if hub else settings.PRIVACY_CONTROLLER,
            "contact_email": (
                hub.contact_email if hub and hub.contact_email else settings.PRIVACY_CONTACT_EMAIL
            ),
            "schedule": schedule_rows(hub=hub),
        },
    )


@login_required
def your_data(request: HttpRequest) -> HttpResponse:
    """The person's copies of their data: ask for one, see it being made, download it."""
    if request.method == "POST":
        # One copy in the making at a time: pressing the button again does not queue another.
        unfinished = SubjectAccessExport.objects.filter(
            person=request.user,
            status__in=[SubjectAccessExport.Status.QUEUED, SubjectAccessExport.Status.RUNNING],
        )
        if not unfinished.exists():
            export_request(person=request.user, requested_by=request.user)
        return redirect("privacy_your_data")
    copies = SubjectAccessExport.objects.filter(person=request.user).order_by("-created_at")[:10]
    return render(request, "privacy/your_data.html", {"copies": copies})


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """A copy of a person's data, for those ``may_download`` allows (never a hint otherwise)."""
    export = get_object_or_404(SubjectAccessExport.objects.select_related("person"), pk=pk)
    if not may_download(export, request.user):
        raise Http404
    try:
        opened = export.file.open("rb")
    except (FileNotFoundError, ValueError):  # expired and deleted, or never made: nothing to give
        raise Http404 from None
    hubs = person_hub_ids(export.person)
    access_record(
        by=request.user,
        action=AccessLogEntry.Action.DOWNLOADED,
        what="Copy of personal data (subject access export)",
        person=export.person,
        hub_id=export.hub_id or (next(iter(hubs)) if len(hubs) == 1 else None),
    )
    response = FileResponse(
        opened,
        as_attachment=True,
        filename=f"personal-data-{export.pk}.zip",
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
