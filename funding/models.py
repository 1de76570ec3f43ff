"""Funding rounds and eligibility data. The rules themselves live in funding/eligibility.py."""

from django.db import models


class FundingRound(models.Model):
    """The DfE funding rules that govern a cohort, e.g. ``2022-23`` or ``2025``."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
