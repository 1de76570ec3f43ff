"""Dates typed by people the GOV.UK way ("27 3 1985", "27/03/1985" or "9 2023"), and days and
moments written the GOV.UK way ("1 March 2026", "4:30pm on 3 June 2025"; templates use the
moments as filters). ``TypedDateField`` is the form field of a typed date."""

import re
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

SEPARATORS = re.compile(r"[\s/.-]+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_typed_date(text: str, *, with_day: bool = True) -> date:
    """Day, month and year (or month and year: the 1st of that month). ValueError if not a date."""
    parts = [int(part) for part in SEPARATORS.split(text.strip()) if part]  # ValueError if not numbers
    if with_day:
        if len(parts) != 3:
            raise ValueError("expected day, month and year")
        day, month, year = parts
    else:
        if len(parts) != 2:
            raise ValueError("expected month and year")
        (month, year), day = parts, 1
    return date(year, month, day)


class TypedDateField(forms.CharField):
    """A date typed in one text box the GOV.UK way (``parse_typed_date``), cleaned to a date;
    None when left empty and not required. The text box is checked first as any other is (the
    "required" message, no null characters), then ``error_messages["invalid"]`` says the text is
    not a date. Checks of the date itself (in the past, within the course) stay with each form's
    ``clean_<field>``."""

    default_error_messages = {"invalid": "Enter a real date"}

    def __init__(self, *, with_day: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.with_day = with_day

    def prepare_value(self, value: Any) -> Any:
        """A stored date (a date, or its ISO text "1985-03-27" as answers keep it) is shown as
        people type it ("27 3 1985", or "9 2023" without the day), so that the page shown again
        is accepted as it stands."""
        if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                return value
        if isinstance(value, date):
            return (
                f"{value.day} {value.month} {value.year}" if self.with_day else f"{value.month} {value.year}"
            )
        return value

    def clean(self, value: Any) -> date | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return parse_typed_date(text, with_day=self.with_day)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


def long_date(day: date, *, with_day: bool = True) -> str:
    """A day written out the GOV.UK way, "1 March 2026" (or the month, "March 2026")."""
    return f"{day.day} {day:%B %Y}" if with_day else f"{day:%B %Y}"


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


def govuk_datetime(value: datetime | None, date_format: str = "j F Y") -> str:
    """A moment the GOV.UK way, time first: "4:30pm on 3 June 2025" (``date_format`` for the day)."""
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{govuk_time(value)} on {date_filter(value, date_format)}"
