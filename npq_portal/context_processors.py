from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, str]:
    """The service name and phase shown in every page's header and phase banner."""
    return {"SERVICE_NAME": settings.SERVICE_NAME, "SERVICE_PHASE": settings.PHASE}
