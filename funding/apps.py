from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "funding"

    def ready(self) -> None:
        from . import selectors  # noqa: F401 - registers who may see funding rows
