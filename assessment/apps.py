from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"

    def ready(self) -> None:
        from programmes.signals import staff_left

        from .receivers import return_marking_to_pool

        staff_left.connect(return_marking_to_pool, dispatch_uid="return_marking_to_pool")
