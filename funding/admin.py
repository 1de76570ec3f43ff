from django.contrib import admin

from .models import FundingRound


@admin.register(FundingRound)
class FundingRoundAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
