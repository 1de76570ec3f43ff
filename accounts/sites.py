"""The Sites record (django.contrib.sites) that allauth names in its emails and pages.

Django creates it as "example.com"; the portal keeps it equal to SERVICE_NAME and the host of
SITE_URL, so an account email says which service sent it. A data migration sets it once and a
post_migrate handler re-syncs it after every ``migrate`` (a deployment that changes SITE_URL or
SERVICE_NAME only has to migrate).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.color import no_style
from django.db import connections


def site_domain(site_url: str) -> str:
    """The host (and port, if any) of a URL: "https://npq.example.org/" -> "npq.example.org"."""
    return (urlsplit(site_url).netloc or site_url)[:100]


def site_sync(*, site_model: Any = None, using: str = "default") -> None:
    """Make Site(id=SITE_ID) carry the service's name and domain (creating it if missing)."""
    if site_model is None:
        from django.contrib.sites.models import Site as site_model
    _, created = site_model.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"name": settings.SERVICE_NAME[:50], "domain": site_domain(settings.SITE_URL)},
    )
    if created:  # made with an explicit id: move the id sequence past it, as Django's default does
        connection = connections[using]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [site_model]):
                cursor.execute(sql)
    clear_cache = getattr(site_model.objects, "clear_cache", None)
    if clear_cache is not None:  # the real manager caches the current site per process
        clear_cache()


def sync_site_after_migrate(sender: Any, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """post_migrate receiver: runs after django.contrib.sites has made its default site."""
    try:
        site_model = apps.get_model("sites", "Site") if apps is not None else None
    except LookupError:  # django.contrib.sites is not migrated in this run
        return
    site_sync(site_model=site_model, using=using)
