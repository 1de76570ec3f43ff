from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"

    def ready(self) -> None:
        from programmes.signals import place_freed

        from .receivers import offer_freed_place

        place_freed.connect(offer_freed_place, dispatch_uid="offer_freed_place")
