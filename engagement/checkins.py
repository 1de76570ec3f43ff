"""Mentor check-ins: the participant logs one, the mentor confirms it from an emailed link."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.dates import long_date
from programmes.models import Participant

from .models import MentorCheckin

CONFIRM_LINK_DAYS = 30


class CheckinError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checkin_date_problem(*, participant: Participant, held_on: date, today: date | None = None) -> str | None:
    """Why ``held_on`` cannot be the date of one of the participant's check-ins (None: it can).

    A check-in counts only within the course: from its delivery start to its delivery end, and
    never in the future. The form shows the message next to the date; the services refuse too."""
    today = today or timezone.localdate()
    course = participant.course
    if held_on > today:
        return "The check-in date must be today or in the past"
    if held_on < course.delivery_start:
        return (
            f"The check-in date must be the same as or after {long_date(course.delivery_start)},"
            " when your course started"
        )
    if held_on > course.delivery_end:
        return f"The check-in date must be the same as or before {long_date(course.delivery_end)}, when your course ended"
    return None


def checkin_status(checkin: MentorCheckin) -> str:
    """``outside_course`` (logged before dates were checked: never counts, even if confirmed),
    ``confirmed`` (counts) or ``waiting`` for the mentor."""
    course = checkin.participant.course
    if not course.delivery_start <= checkin.held_on <= course.delivery_end:
        return "outside_course"
    return "confirmed" if checkin.confirmed_at is not None else "waiting"


def checkin_counts(checkin: MentorCheckin) -> bool:
    """Confirmed by the mentor and dated within the course."""
    return checkin_status(checkin) == "confirmed"


@transaction.atomic
def checkin_log(*, participant: Participant, held_on: date, notes: str = "") -> MentorCheckin:
    if participant.status not in Participant.LIVE_STATUSES:
        raise CheckinError("Check-ins can only be logged while you are on the course.")
    if not participant.mentor_email:
        raise CheckinError("Your hub has no email address for your mentor. Ask them to add it.")
    problem = checkin_date_problem(participant=participant, held_on=held_on)
    if problem:
        raise CheckinError(problem)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    checkin = MentorCheckin.objects.create(
        participant=participant,
        held_on=held_on,
        notes=notes,
        mentor_name=participant.mentor_name,
        mentor_email=participant.mentor_email,
        token_hash=_hash(token),
        requested_at=now,
        expires_at=now + timedelta(days=CONFIRM_LINK_DAYS),
    )
    transaction.on_commit(lambda: _email_mentor(checkin, token))
    return checkin


def checkin_for_token(token: str) -> MentorCheckin:
    checkin = (
        MentorCheckin.objects.select_related("participant__user", "participant__course__programme")
        .filter(token_hash=_hash(token))
        .first()
    )
    if checkin is None:
        raise CheckinError("This link is not valid.")
    if checkin.confirmed_at is not None:
        raise CheckinError("This check-in has already been confirmed.")
    if timezone.now() >= checkin.expires_at:
        raise CheckinError("This link has expired.")
    course = checkin.participant.course
    if not course.delivery_start <= checkin.held_on <= course.delivery_end:
        raise CheckinError(
            f"This check-in is dated {long_date(checkin.held_on)}, which is outside the course"
            f" ({long_date(course.delivery_start)} to {long_date(course.delivery_end)}), so it cannot be confirmed."
            " The participant can log it again with the right date."
        )
    return checkin


@transaction.atomic
def checkin_confirm(*, token: str) -> MentorCheckin:
    checkin = checkin_for_token(token)
    checkin = MentorCheckin.objects.select_for_update().get(pk=checkin.pk)
    if checkin.confirmed_at is not None:
        raise CheckinError("This check-in has already been confirmed.")
    checkin.confirmed_at = timezone.now()
    checkin.save(update_fields=["confirmed_at"])
    return checkin


def _email_mentor(checkin: MentorCheckin, token: str) -> None:
    context = {
        "checkin": checkin,
        "participant": checkin.participant,
        "link": settings.SITE_URL + reverse("checkin_confirm", args=[token]),
        "service_name": settings.SERVICE_NAME,
    }
    message = EmailMultiAlternatives(
        subject=f"Please confirm your NPQ check-in with {checkin.participant.user.get_full_name()} – {settings.SERVICE_NAME}",
        body=render_to_string("emails/checkin_confirm.txt", context),
        to=[checkin.mentor_email],
    )
    message.attach_alternative(render_to_string("emails/checkin_confirm.html", context), "text/html")
    message.send()
