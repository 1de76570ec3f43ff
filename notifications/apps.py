from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and scheduled jobs"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app's reminders.py registers its scheduled jobs by name (jobs.py), as admin.py
        # registers models: this app runs them without naming the apps they belong to.
        autodiscover_modules("reminders")
