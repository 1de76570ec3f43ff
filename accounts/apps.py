from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from .sites import sync_site_after_migrate

        # Keep the Sites record (named in allauth's emails) equal to SERVICE_NAME / SITE_URL.
        post_migrate.connect(sync_site_after_migrate, sender=self, dispatch_uid="accounts.sync_site")
