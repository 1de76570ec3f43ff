"""Email through GOV.UK Notify (notifications-python-client), used when NOTIFY_API_KEY is set."""

from __future__ import annotations

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class NotifyEmailBackend(BaseEmailBackend):
    """Sends each message through one Notify template with ((subject)) and ((body)) fields."""

    def __init__(self, fail_silently: bool = False, client=None, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self._client = client

    @property
    def client(self):
        if self._client is None:
            from notifications_python_client.notifications import NotificationsAPIClient

            self._client = NotificationsAPIClient(settings.NOTIFY_API_KEY)
        return self._client

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            for recipient in message.to:
                try:
                    self.client.send_email_notification(
                        email_address=recipient,
                        template_id=settings.NOTIFY_TEMPLATE_ID,
                        personalisation={"subject": message.subject, "body": message.body},
                        reference=message.extra_headers.get("X-NPQ-Reference"),
                    )
                except Exception:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent
