from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProgrammesConfig(AppConfig):
    name = "programmes"

    def ready(self) -> None:
        from .roles import sync_role_groups

        # After every migrate, so that the roles follow ROLE_PERMISSIONS in code.
        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="sync_role_groups")
