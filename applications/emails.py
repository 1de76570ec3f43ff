"""Emails about applications (text and HTML), sent after the change that causes them commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Application, Endorsement


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    context = {**context, "service_name": settings.SERVICE_NAME, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=f"{subject} – {settings.SERVICE_NAME}",
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()


def endorsement_requested(endorsement: Endorsement, token: str) -> None:
    application = endorsement.application
    _send(
        to=endorsement.endorser_email,
        subject=f"Please endorse {application.full_name or application.user.get_full_name()}'s NPQ application",
        template="endorsement_requested",
        context={
            "endorsement": endorsement,
            "application": application,
            "link": settings.SITE_URL + reverse("endorsement", args=[token]),
            "reference": f"NPQ-{application.pk:06d}",
        },
    )


def endorsement_decided(endorsement: Endorsement) -> None:
    """Told once, and kept with the applicant's other messages (notifications app)."""
    from notifications.services import notify

    application = endorsement.application
    what = "change of employer" if endorsement.kind == Endorsement.Kind.CHANGE_OF_EMPLOYER else "application"
    verb = "endorsed" if endorsement.decision == Endorsement.Decision.ENDORSED else "declined"
    notify(
        kind="endorsement_decided",
        recipient=application.user.email,
        user=application.user,
        about=endorsement,
        occurrence="decided",
        title=f"Your NPQ {what} has been {verb}",
        template="endorsement_decided",
        context={"endorsement": endorsement, "application": application},
        link=settings.SITE_URL + reverse("application_detail", args=[application.pk]),
    )


def application_decided(application: Application) -> None:
    from notifications.services import notify

    notify(
        kind="application_decided",
        recipient=application.user.email,
        user=application.user,
        about=application,
        occurrence=application.status,
        title=f"Your NPQ application: {application.get_status_display().lower()}",
        template="application_decided",
        context={"application": application},
        link=settings.SITE_URL + reverse("application_detail", args=[application.pk]),
    )
