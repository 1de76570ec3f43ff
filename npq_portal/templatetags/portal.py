"""Template helpers available in every template (registered as a builtin in settings)."""

import re
from datetime import datetime, time

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import stringfilter
from django.utils import timezone

register = template.Library()


@register.filter
@stringfilter
def squash(value: str) -> str:
    """Collapse runs of whitespace, e.g. in a page title assembled from indented blocks."""
    return re.sub(r"\s+", " ", value).strip()


@register.filter
def govuk_time(value: datetime | time | None) -> str:
    """A time the GOV.UK way: "9am", "4:30pm", "midday", "midnight" (Django's "a" format gives
    "p.m.", whose full stop doubles up at the end of a sentence)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if (value.hour, value.minute) == (12, 0):
        return "midday"
    if (value.hour, value.minute) == (0, 0):
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


@register.filter
def govuk_datetime(value: datetime | None, date_format: str = "j F Y") -> str:
    """A moment the GOV.UK way, time first: "4:30pm on 3 June 2025" (``date_format`` for the day)."""
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{govuk_time(value)} on {date_filter(value, date_format)}"
