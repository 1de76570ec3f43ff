from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProgrammesConfig(AppConfig):
    name = "programmes"

    def ready(self) -> None:
        from accounts.signals import user_deactivated

        from .roles import sync_role_groups
        from .services import staff_work_end_on_deactivation

        user_deactivated.connect(staff_work_end_on_deactivation, dispatch_uid="programmes_staff_work_end")

        # After every migrate, so that the roles follow ROLE_PERMISSIONS in code.
        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="sync_role_groups")
