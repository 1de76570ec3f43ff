"""DfE's six eligibility list files, as DfE publishes them: which list a file is, from its header.

Each list is a CSV file whose header names its identifier column (docs/domain.md, "DfE's list
files"). A file is recognised by that column wherever it stands in the header; the superuser
need not say which list it is, and a file that is another list than the one chosen is refused
before anything is loaded. A file of our own making with a plain ``URN``, ``UKPRN`` or
``Ofsted URN`` column still loads, for the list chosen.

The disadvantaged early years list has two columns: a row's setting is its Ofsted URN where one
is given, else its school URN, as DfE's own service reads it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from .wording import ELIGIBILITY_LISTS


class ListFormatError(ValueError):
    """The file's header does not fit the list chosen (the message says why, in words)."""


@dataclass(frozen=True)
class ListFormat:
    kind: str  # EligibilityListEntry.Kind
    columns: tuple[str, ...]  # identifier columns, as DfE's header spells them
    identifier: str  # "urn", "ukprn", "ofsted_urn" or "early_years"

    @property
    def name(self) -> str:
        """The list as staff read it everywhere (funding/wording.py)."""
        return list_name(self.kind)


FORMATS: tuple[ListFormat, ...] = (
    ListFormat("pp50_school", ("PP50 School URN",), "urn"),
    ListFormat("pp50_fe", ("FE UKPRN",), "ukprn"),
    ListFormat("childminder", ("Childminder URN",), "ofsted_urn"),
    ListFormat("disadvantaged_early_years", ("Disadvantaged EY School URN", "Ofsted URN"), "early_years"),
    ListFormat("la_disadvantaged_nursery", ("LA Nursery URN",), "urn"),
    ListFormat("rise", ("RISE School URN",), "urn"),
)
FORMAT_BY_KIND = {f.kind: f for f in FORMATS}


def list_name(kind: str) -> str:
    """The staff's words for a list kind."""
    return ELIGIBILITY_LISTS.get(kind, kind.replace("_", " "))


def _name(value: str) -> str:
    return value.strip().lstrip("\ufeff").strip().lower()


def format_of_header(header: list[str]) -> ListFormat | None:
    """The DfE list whose identifier column the header has; ListFormatError if it has two."""
    names = {_name(column) for column in header}
    found = [f for f in FORMATS if _name(f.columns[0]) in names]
    if len(found) > 1:
        raise ListFormatError(
            "The header names the columns of more than one of DfE's lists ("
            + " and ".join(f'"{f.columns[0]}"' for f in found)
            + "): upload each list as its own file."
        )
    return found[0] if found else None


def header_of(head: bytes) -> list[str]:
    """The header row of a file's first bytes (UTF-8, else Windows-1252; only to recognise it)."""
    first = head.split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = first.decode("cp1252", errors="replace")
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return []


EXPECTED = ", ".join(f'"{f.columns[0]}"' for f in FORMATS)


def resolve_kind(header: list[str], chosen: str = "") -> tuple[str, ListFormat | None]:
    """The list a file loads into: the DfE list its header shows, which must be the one chosen
    (if one was); or, for a file that is not one of DfE's, the list chosen."""
    found = format_of_header(header)
    if found is None:
        if chosen:
            return chosen, None
        raise ListFormatError(
            "The file's header is not that of one of DfE's eligibility lists, so which list it is "
            f"cannot be told: DfE's lists have a column named {EXPECTED}. Choose the list, or upload "
            "DfE's file as published."
        )
    if chosen and chosen != found.kind:
        raise ListFormatError(
            f'This file is DfE\'s list \u201c{found.name}\u201d (its header has "{found.columns[0]}"), not '
            f"the list chosen, \u201c{list_name(chosen)}\u201d. Choose \u201c{found.name}\u201d, or upload "
            "the other file."
        )
    return found.kind, found


# --- Identifiers ----------------------------------------------------------------------------------

EXCEL_WHOLE_NUMBER = re.compile(r"^(\d+)\.0+$")
URN = re.compile(r"^\d{5,7}$")
UKPRN = re.compile(r"^1\d{7}$")
OFSTED_URN = re.compile(r"^(?:[A-Z]{2}\d{6}|\d{6,7})$")

MESSAGES = {
    "urn": "is not a URN (a number like 137001)",
    "ukprn": "is not a UKPRN (8 digits starting with 1, like 10034111)",
    "ofsted_urn": "is not an Ofsted URN (like EY123456, CA000006 or 225540)",
}
PATTERNS = {"urn": URN, "ukprn": UKPRN, "ofsted_urn": OFSTED_URN}


def whole_number(value: str) -> str:
    """A whole number as typed, or as a spreadsheet writes it (137001 as ``137001.0``), without
    the spaces around it; any other text only without the spaces. The one reading of numbers in
    funding's files: the lists' identifiers here and in funding/imports/, GIAS's numbers there."""
    value = value.strip()
    if "." not in value:
        return value  # the common case, without a regular expression per value
    match = EXCEL_WHOLE_NUMBER.match(value)
    return match.group(1) if match else value


def identifier_of(row: dict[str, str], list_format: ListFormat) -> str:
    """The row's identifier, or ValueError saying in words what is wrong with it."""
    if list_format.identifier == "early_years":
        school, ofsted = list_format.columns
        ofsted_urn = whole_number(row.get(ofsted, "")).upper()
        if ofsted_urn:
            return _checked(ofsted_urn, "ofsted_urn", ofsted)
        return _checked(whole_number(row.get(school, "")).upper(), "urn", school)
    column = list_format.columns[0]
    return _checked(whole_number(row.get(column, "")).upper(), list_format.identifier, column)


def _checked(value: str, kind: str, column: str) -> str:
    if not value:
        raise ValueError(f'"{column}" is empty')
    if not (value.isascii() and PATTERNS[kind].match(value)):
        raise ValueError(f'"{column}" {value!r} {MESSAGES[kind]}')
    return value
