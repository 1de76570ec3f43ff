"""Every CSV file the portal writes goes through here, so that every cell is safe to open.

Spreadsheets (Excel, LibreOffice, Google Sheets) read a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula ("CSV injection"): a participant's name
such as ``=HYPERLINK("https://evil.example", "Click")`` would run on a member of staff's
machine. Such a cell is written with a single quote in front, which spreadsheets show as text
(OWASP's advice). Numbers are written as they are, so ``-3`` stays a number; everything else is
text and is checked.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a cell that no spreadsheet runs as a formula (None is an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]) -> HttpResponse:
    """A CSV download: the header, then the rows, every cell through ``safe_cell``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return response
