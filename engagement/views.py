"""Participant-facing engagement pages: an enrolment's engagement and check-ins, the calendar."""

import re
from datetime import date

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common.dates import TypedDateField
from programmes.models import Participant
from programmes.selectors import own_enrolment

from .checkins import (
    CheckinError,
    checkin_confirm,
    checkin_counts,
    checkin_date_problem,
    checkin_for_token,
    checkin_log,
    checkin_status,
)
from .ical import render_calendar
from .models import CalendarFeed
from .selectors import calendar_activities
from .services import calendar_feed_rotate
from .tally import ENGAGEMENT_BAR, TASK_RECORD_DAYS, State, participant_activities

FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    feed = CalendarFeed.objects.filter(user=request.user).first()
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token])) if feed else None
    return render(request, "engagement/calendar.html", {"feed_url": feed_url})


@login_required
@require_POST
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    calendar_feed_rotate(user=request.user)
    return redirect("calendar")


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no sign-in (calendar apps cannot), the secret token is the key."""
    if not FEED_TOKEN.fullmatch(token):  # token_urlsafe's alphabet: no NUL byte reaches the database
        raise Http404
    # A deactivated account's address serves nothing (not even its name), as if unknown.
    feed = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token, user__is_active=True)
    since = timezone.localdate() - timezone.timedelta(days=90)
    body = render_calendar(
        name=f"{settings.SERVICE_NAME}: {feed.user.get_full_name()}",
        activities=calendar_activities(user=feed.user, since=since),
        domain=request.get_host().split(":")[0],
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=900"
    return response


@login_required
def enrolment(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's engagement, activities, check-ins and what to do next."""
    participant = own_enrolment(request, pk, "tally")
    tally = getattr(participant, "tally", None)
    now = timezone.now()
    today = timezone.localdate()
    activities = participant_activities(participant=participant, today=today)
    upcoming = [
        a
        for a, _, _ in activities
        if (a.starts_at and a.starts_at >= now) or (a.due_on and a.due_on >= today)
    ][:3]
    checkins = list(participant.checkins.all())
    states = [
        state for activity, _, state in activities if activity.required and activity.counts_towards_engagement
    ]
    return render(
        request,
        "engagement/enrolment.html",
        {
            "participant": participant,
            "tally": tally,
            "bar": ENGAGEMENT_BAR,
            "activities": activities,
            "awaiting": states.count(State.AWAITING),
            "anything_due": any(state != State.UPCOMING for state in states),
            "task_record_days": TASK_RECORD_DAYS,
            "upcoming": upcoming,
            "checkins": [(c, checkin_status(c)) for c in checkins],
            "confirmed_checkins": sum(1 for c in checkins if checkin_counts(c)),
            "required_checkins": participant.course.programme.mentor_checkins,
        },
    )


class CheckinForm(forms.Form):
    held_on = TypedDateField(
        label="When was the check-in?",
        help_text="For example, 27 3 2026.",
        error_messages={
            "required": "Enter the date of the check-in",
            "invalid": "Enter the date as day, month and year, like 27 3 2026",
        },
    )
    notes = forms.CharField(
        label="What did you discuss? (optional)", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.participant = participant

    def clean_held_on(self) -> date:
        held_on = self.cleaned_data["held_on"]
        problem = checkin_date_problem(participant=self.participant, held_on=held_on)
        if problem:
            raise forms.ValidationError(problem)
        return held_on


@login_required
@require_http_methods(["GET", "POST"])
def checkin_new(request: HttpRequest, pk: int) -> HttpResponse:
    participant = own_enrolment(request, pk)
    form = CheckinForm(request.POST or None, participant=participant)
    if request.method == "POST" and form.is_valid():
        try:
            checkin_log(
                participant=participant,
                held_on=form.cleaned_data["held_on"],
                notes=form.cleaned_data["notes"],
            )
        except CheckinError as exc:
            form.add_error("held_on", str(exc))
        else:
            messages.success(
                request, f"We have asked {participant.mentor_name or 'your mentor'} to confirm the check-in."
            )
            return redirect("enrolment", pk)
    return render(
        request,
        "question.html",
        {
            "form": form,
            "title": "Log a check-in with your mentor",
            "caption": participant.course.programme.name,
            "page_heading": True,
            "back_url": reverse("enrolment", args=[pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def checkin_confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    """The mentor's emailed link: no sign-in; the single-use token is the key."""
    try:
        checkin = checkin_for_token(token)
    except CheckinError as exc:
        return render(request, "applications/endorsement_unavailable.html", {"message": str(exc)}, status=404)
    if request.method == "POST":
        try:
            checkin = checkin_confirm(token=token)
        except CheckinError as exc:
            return render(
                request, "applications/endorsement_unavailable.html", {"message": str(exc)}, status=404
            )
        return render(request, "engagement/checkin_confirmed.html", {"checkin": checkin})
    return render(request, "engagement/checkin_confirm.html", {"checkin": checkin})
