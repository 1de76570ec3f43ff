"""Dates typed by people the GOV.UK way: "27 3 1985", "27/03/1985" or "9 2023"."""

import re
from datetime import date

SEPARATORS = re.compile(r"[\s/.-]+")


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
