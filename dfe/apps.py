from django.apps import AppConfig


class DfeConfig(AppConfig):
    name = "dfe"
    verbose_name = "DfE's lead provider API"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
