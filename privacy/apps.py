from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Personal data"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app's personal_data.py declares its models (common/personal_data.py).
        autodiscover_modules("personal_data")
