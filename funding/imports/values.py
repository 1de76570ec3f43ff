"""Values in an import's rows: whole numbers as typed or as a spreadsheet writes them, and dates."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from ..dfe_lists import whole_number
from .outcome import BadRow


def _number(value: str, column: str, *, required: bool = False) -> int | None:
    value = whole_number(value)
    if not value:
        if required:
            raise BadRow(f"{column} is empty")
        return None
    if not (value.isascii() and value.isdigit()):
        raise BadRow(f"{column} {value!r} is not a whole number")
    return int(value)


GIAS_DATE = re.compile(r"^(\d{1,2})([-/])(\d{1,2})\2(\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$")


@lru_cache(maxsize=4096)
def _date_named(value: str) -> date | None:
    """The date a stripped text names, None if it names none. Cached: a GIAS file of 50,000
    establishments repeats a few thousand opening dates."""
    match = GIAS_DATE.match(value)
    if match:
        day, _, month, year, iso_year, iso_month, iso_day = match.groups()
        try:
            if year:
                return date(int(year), int(month), int(day))
            return date(int(iso_year), int(iso_month), int(iso_day))
        except ValueError:
            pass
    return None


def _date(value: str, column: str) -> date | None:
    """01-09-2015 (GIAS), 01/09/2015 or 2015-09-01."""
    value = value.strip()
    if not value:
        return None
    named = _date_named(value)
    if named is None:
        raise BadRow(f"{column} {value!r} is not a date like 01-09-2015")
    return named
