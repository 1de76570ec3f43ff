"""Eligibility list imports: a round's list replaced by a file's settings in one step, with
what it added and removed recorded, and a confirmation needed to remove more than half of it."""

from __future__ import annotations

import hashlib
import re

from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.utils import timezone

from common.csv_files import NOTHING_LOADED, CsvFile, MalformedFile, Source, check_file, source_of

from ..dfe_lists import ListFormatError, identifier_of, resolve_kind, whole_number
from ..models import (
    EarlyYearsProvider,
    EligibilityListChange,
    EligibilityListEntry,
    FundingRound,
    ImportRun,
    Institution,
)
from .outcome import BadRow, Data, Outcome, _Progress

BATCH_SIZE = 1000
# A list replaced by a file with fewer entries than this share of it needs confirming.
CONFIRM_BELOW_SHARE = 0.5
SAMPLE_SIZE = 20
MAX_LIST_ENTRIES = 500_000


class ListShrinks(Exception):
    """The file would leave fewer than half of the list's entries: nothing is changed until a
    superuser confirms, having seen ``changes``."""

    def __init__(self, changes: dict):
        super().__init__("The list would shrink by more than half.")
        self.changes = changes


IDENTIFIER_COLUMNS = ("URN", "UKPRN", "Ofsted URN", "Identifier")
OFSTED_URN = re.compile(r"^EY\d{6}$")


def parse_identifier(value: str) -> str:
    value = whole_number(value).upper()
    if value.isascii() and value.isdigit() and 5 <= len(value) <= 8:
        return value
    if OFSTED_URN.match(value):
        return value
    raise BadRow(f"{value!r} is not a URN, UKPRN or Ofsted URN (like EY123456)")


def _list_identifiers(
    source: Source, encoding: str, outcome: Outcome, progress: _Progress, chosen_kind: str
) -> set[str]:
    """The file's settings. A DfE list file is recognised by its header (funding/dfe_lists.py);
    the list loaded is set on ``outcome.kind``."""
    wanted: set[str] = set()
    with source() as handle:
        csv_file = CsvFile(handle, encoding)
        try:
            outcome.kind, list_format = resolve_kind(csv_file.header, chosen_kind)
        except ListFormatError as exc:
            raise MalformedFile(f"{exc} {NOTHING_LOADED}") from None
        if list_format is not None:
            # The header's own spelling of DfE's columns (an early years file may lack "Ofsted URN").
            spelled = {csv_file.column(name): name for name in list_format.columns if csv_file.column(name)}

            def read(row: dict[str, str]) -> str:
                return identifier_of({spelled[column]: value for column, value in row.items()}, list_format)

            columns = list(spelled)
        else:
            column = csv_file.column(*IDENTIFIER_COLUMNS)
            if column is None:
                raise MalformedFile(
                    "The file needs a column named URN, UKPRN or Ofsted URN identifying each setting. Nothing was loaded."
                )

            def read(row: dict[str, str]) -> str:
                return parse_identifier(row[column])

            columns = [column]
        for line, row in csv_file.rows(columns):
            outcome.rows_total += 1
            progress(outcome.rows_total)
            try:
                identifier = read(row)
            except ValueError as exc:  # BadRow, or a DfE list's identifier in the wrong form
                outcome.skip(line, str(exc))
                continue
            if identifier in wanted:
                outcome.skip(line, f"{identifier} appears more than once")
                continue
            wanted.add(identifier)
            if len(wanted) > MAX_LIST_ENTRIES:
                raise MalformedFile(
                    f"The file has more than {MAX_LIST_ENTRIES:,} settings: it is not an eligibility list. "
                    "Nothing was loaded."
                )
    if not wanted:
        raise MalformedFile(
            f"None of the file's {outcome.rows_total} row{pluralize(outcome.rows_total)} has a URN, UKPRN or "
            "Ofsted URN that can be read, so the list would be emptied. Nothing was loaded.",
            outcome.problems,
        )
    return wanted


def list_digest(identifiers: set[str]) -> str:
    """A fingerprint of a list's entries: a confirmation holds only for the list it was given for."""
    return hashlib.sha256("\n".join(sorted(identifiers)).encode()).hexdigest()


def list_changes(current: set[str], wanted: set[str]) -> dict:
    added, removed = sorted(wanted - current), sorted(current - wanted)
    return {
        "current": len(current),
        "incoming": len(wanted),
        "added": len(added),
        "removed": len(removed),
        "unchanged": len(current & wanted),
        "added_sample": added[:SAMPLE_SIZE],
        "removed_sample": removed[:SAMPLE_SIZE],
        "list_digest": list_digest(current),
    }


def identifier_names(identifiers: list[str]) -> dict[str, str]:
    """The establishments' names, where GIAS or the early years register knows them."""
    numbers = [int(i) for i in identifiers if i.isdigit()]
    names: dict[str, str] = {}
    for urn, ukprn, name in Institution.objects.filter(Q(urn__in=numbers) | Q(ukprn__in=numbers)).values_list(
        "urn", "ukprn", "name"
    ):
        names.setdefault(str(urn), name)
        if ukprn is not None:
            names.setdefault(str(ukprn), name)
    ofsted = [i for i in identifiers if not i.isdigit()]
    names.update(EarlyYearsProvider.objects.filter(ofsted_urn__in=ofsted).values_list("ofsted_urn", "name"))
    return {i: names[i] for i in identifiers if i in names}


def needs_confirmation(changes: dict) -> bool:
    return changes["current"] > 0 and changes["incoming"] < CONFIRM_BELOW_SHARE * changes["current"]


def import_eligibility_list(
    data: Data,
    *,
    funding_round: FundingRound,
    kind: str = "",
    run: ImportRun | None = None,
    confirmed: bool = False,
    confirmed_for: str = "",
    by=None,
) -> Outcome:
    """Make the stored list of ``funding_round`` exactly the file's settings, in one transaction,
    recording what it added and removed (EligibilityListChange). The list is the one the file's
    header shows (one of DfE's six), which must be ``kind`` when that is given; a file of another
    shape loads into ``kind``.

    A file that would leave fewer than half of the list's entries raises ListShrinks unless
    ``confirmed`` (for the list whose digest is ``confirmed_for``, when given: a list changed
    since it was confirmed needs confirming again).
    """
    source = source_of(data)
    encoding = check_file(source)
    outcome, progress = Outcome(), _Progress(run)
    wanted = _list_identifiers(source, encoding, outcome, progress, kind)
    kind = outcome.kind
    progress(outcome.rows_total, force=True, rows_total=outcome.rows_total)
    with transaction.atomic():
        # Two imports of lists of one round take turns: each compares with the list it replaces.
        FundingRound.objects.select_for_update().filter(pk=funding_round.pk).first()
        entries = EligibilityListEntry.objects.filter(funding_round=funding_round, kind=kind)
        current = set(entries.values_list("identifier", flat=True))
        changes = outcome.changes = list_changes(current, wanted)
        if needs_confirmation(changes):
            if confirmed_for and confirmed_for != changes["list_digest"]:
                changes["list_changed"] = True
                raise ListShrinks(changes)
            if not confirmed:
                raise ListShrinks(changes)
        EligibilityListEntry.objects.bulk_create(
            [
                EligibilityListEntry(funding_round=funding_round, kind=kind, identifier=i)
                for i in sorted(wanted - current)
            ],
            batch_size=BATCH_SIZE,
        )
        removed = sorted(current - wanted)
        for start in range(0, len(removed), BATCH_SIZE):
            part = removed[start : start + BATCH_SIZE]
            outcome.removed += entries.filter(identifier__in=part).delete()[0]
        if changes["added"] or changes["removed"]:
            EligibilityListChange.objects.create(
                funding_round=funding_round,
                kind=kind,
                import_run=run,
                replaced_by=by or (run and (run.confirmed_by or run.started_by)),
                replaced_at=timezone.now(),
                entries_before=len(current),
                entries_after=len(wanted),
                added=sorted(wanted - current),
                removed=removed,
            )
    outcome.created = changes["added"]
    outcome.unchanged = changes["unchanged"]
    return outcome
