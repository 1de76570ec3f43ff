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
    application = endorsement.application
    _send(
        to=application.user.email,
        subject="Your NPQ application has been "
        + ("endorsed" if endorsement.decision == "endorsed" else "declined"),
        template="endorsement_decided",
        context={
            "endorsement": endorsement,
            "application": application,
            "link": settings.SITE_URL + reverse("home"),
            "reference": f"NPQ-{application.pk:06d}",
        },
    )


def application_decided(application: Application) -> None:
    _send(
        to=application.user.email,
        subject=f"Your NPQ application: {application.get_status_display().lower()}",
        template="application_decided",
        context={
            "application": application,
            "link": settings.SITE_URL + reverse("home"),
            "reference": f"NPQ-{application.pk:06d}",
        },
    )
