"""Admin of national reference data: GIAS establishments, early years providers, ITT providers."""

from __future__ import annotations

from django.contrib import admin

from ..models import EarlyYearsProvider, Institution, IttProvider
from .common import SuperuserOnlyAdmin


@admin.register(Institution)
class InstitutionAdmin(SuperuserOnlyAdmin):
    list_display = (
        "urn",
        "name",
        "establishment_type_name",
        "status",
        "la_name",
        "postcode",
        "number_of_pupils",
    )
    list_filter = ("status", "establishment_type_name", "phase")
    search_fields = ("=urn", "=ukprn", "name", "postcode")


@admin.register(EarlyYearsProvider)
class EarlyYearsProviderAdmin(SuperuserOnlyAdmin):
    list_display = ("ofsted_urn", "name", "postcode")
    search_fields = ("ofsted_urn", "name", "postcode")


@admin.register(IttProvider)
class IttProviderAdmin(SuperuserOnlyAdmin):
    list_display = ("name", "approved")
    list_filter = ("approved",)
    search_fields = ("name",)
