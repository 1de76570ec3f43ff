"""Dates and times as DfE's lead provider API writes them, in UTC with a ``Z``.

Two formats, both DfE's: to the second (``2026-03-27T09:00:00Z``: a declaration's date, an
outcome's completion date, the assurance pack's columns) and to the microsecond
(``2026-03-27T09:00:00.123456Z``: ``updated_at`` and the ``filter[updated_since]`` sent back,
so that two changes in one second still order).

Two ways of reading: the portal reads DfE's answers as Django does (``parse_dfe_time``), and
the fake DfE reads what it is sent strictly, as DfE does, refusing what is not ISO 8601
(``parse_sent_time``).

Standard library only at import, like the fake DfE (dfe/fake/) that uses it.
"""

from __future__ import annotations

from datetime import UTC, datetime

TO_THE_SECOND = "%Y-%m-%dT%H:%M:%SZ"
TO_THE_MICROSECOND = "%Y-%m-%dT%H:%M:%S.%fZ"


def dfe_time(moment: datetime, *, microseconds: bool = False) -> str:
    """``moment`` in UTC, written DfE's way: to the second, or to the microsecond."""
    return moment.astimezone(UTC).strftime(TO_THE_MICROSECOND if microseconds else TO_THE_SECOND)


def parse_dfe_time(value: str) -> datetime | None:
    """A date and time in DfE's answer (``updated_at``), read as Django's ``parse_datetime``
    reads it: None if the text is not a date and time, ValueError if it looks like one but is
    no real moment (a 13th month)."""
    from django.utils.dateparse import parse_datetime  # here, so the fake DfE imports no Django

    return parse_datetime(value)


def parse_sent_time(value: str) -> datetime:
    """A date and time sent to the fake DfE, read strictly as ISO 8601 (``Z`` for UTC);
    ValueError if it is not one."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
