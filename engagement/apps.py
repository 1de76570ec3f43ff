from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from accounts.signals import user_deactivated

        from . import selectors  # noqa: F401  (says how activities and marks reach a hub)
        from .receivers import calendar_feed_stop

        user_deactivated.connect(calendar_feed_stop, dispatch_uid="engagement_calendar_feed_stop")
