"""Personal data of notifications (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import Mention, not_personal, register

from .models import JobRun, Notification

not_personal(JobRun, "Runs of scheduled jobs: counts and times.")

register(
    Notification,
    "Messages sent",
    subject=lambda user: Q(user=user),
    fields=("recipient", "title", "body_text", "body_html", "link", "last_error"),
    mentions=(
        Mention(
            lambda user: Q(recipient__iexact=user.email),
            ("recipient", "title", "body_text", "body_html", "link", "last_error"),
        ),
    ),
    keep="Each message's record stays (kind, status, when) without address or words, so that a "
    "reminder is not sent twice.",
)
