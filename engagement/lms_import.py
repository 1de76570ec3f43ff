"""Import an LMS completion export: participant email or TRN, activity code, completed at.

Every activity the file includes is stamped with the day of the import (``imported_on``): from
then on, once it is past, those with no completion for it have missed it rather than awaiting
its record.

Unknown participants or activities are reported by line; the rest load in one transaction per
file. Only participants and activities the importing staff member may see are matched.

The cost does not grow with the number of participants, and the number of statements does not
grow with the file: the file's identifiers are resolved together (emails through the
``lower(email)`` index, TRNs through their own), the marks it speaks of are read together, and
the new and completed marks are written with their history in one statement (two on SQLite);
the rows travel as one parameter per column: arrays on PostgreSQL, a JSON list on SQLite
(decisions.md, 32).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone

from common.csv_files import MalformedFile, decode
from programmes.models import Participant

from .models import Activity, Attendance
from .tally import DONE, schedule_tally

COLUMNS = {"participant", "activity_code", "completed_at"}


@dataclass
class LmsOutcome:
    rows: int = 0
    loaded: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


# The formats accepted, by the separators a value of each must contain: a value is tried only
# against those it could match (a failed strptime costs as much as a successful one, and a
# large export has 100,000 of them).
FORMATS_BY_SHAPE = {
    "/": ("%d/%m/%Y %H:%M", "%d/%m/%Y"),
    "T": ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"),
    " ": ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"),
    "": ("%Y-%m-%d",),
}


def _completed_at(value: str, local: tzinfo | None = None) -> datetime:
    """An aware datetime; a value without an offset is in ``local`` (the current time zone)."""
    value = value.strip()
    shape = next((separator for separator in ("/", "T", " ") if separator in value), "")
    for pattern in FORMATS_BY_SHAPE[shape]:
        try:
            moment = datetime.strptime(value, pattern)  # noqa: DTZ007 - made aware below
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=local or timezone.get_current_timezone())
    raise ValueError(f"completed_at {value!r} is not a date and time like 2025-11-05 16:30")


class OneOf(Func):
    """``expression`` is one of ``values``, given as ONE parameter whatever their number (an
    array on PostgreSQL, where ``= ANY`` uses the expression's index; a JSON list on SQLite), so
    a file of 100,000 rows makes the same statement as one of ten."""

    output_field = BooleanField()

    def __init__(self, expression, values: Iterable):
        super().__init__(expression)
        self.values = list(values)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"{sql} = ANY(%s)", (*params, self.values)
        return f"{sql} IN (SELECT value FROM json_each(%s))", (*params, json.dumps(self.values))  # noqa: S608 - compiled SQL, values a parameter


def _rows_table(columns: Sequence[tuple[str, str]], rows: Sequence[tuple]) -> tuple[str, list]:
    """``rows`` as a table ``v`` with ``columns`` ((name, PostgreSQL type), ...) for a FROM
    clause: one array parameter per column on PostgreSQL (``unnest``), one JSON list on SQLite."""
    names = [name for name, _ in columns]
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{db_type}[]" for _, db_type in columns)
        return f"unnest({arrays}) AS v({', '.join(names)})", [
            list(column) for column in zip(*rows, strict=True)
        ]
    values = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(names))
    return f"(SELECT {values} FROM json_each(%s)) AS v", [json.dumps(rows)]  # noqa: S608 - names are ours


@dataclass
class _Row:
    line: int
    who: str
    code: str
    completed_at: datetime | None
    problem: str = ""


def _lines(reader) -> Iterator[list[str]]:
    """The reader's rows; a line the csv module cannot read (a field past its size limit, a
    NUL byte in a quoted field) refuses the file, naming the line, instead of failing the page."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            raise MalformedFile(
                f"Line {line} cannot be read as CSV ({exc}). Nothing was loaded.",
                [(line, f"cannot be read: {exc}")],
            ) from None
        yield row


def _read(raw: bytes) -> list[_Row]:
    reader = csv.reader(io.StringIO(decode(raw), newline=""))
    lines = _lines(reader)
    names = [name.strip().lower() for name in next(lines, [])]
    missing = sorted(COLUMNS - set(names))
    if missing:
        raise MalformedFile(
            "The file needs the columns participant (email or TRN), activity_code and completed_at; missing: "
            + ", ".join(missing)
            + ". Nothing was loaded."
        )
    # As a csv.DictReader reads it: the last column of a name counts, missing cells are empty.
    who_at, code_at, when_at = (
        max(i for i, name in enumerate(names) if name == column)
        for column in ("participant", "activity_code", "completed_at")
    )
    rows, local = [], timezone.get_current_timezone()
    for row in lines:
        if not row:
            continue  # a blank line
        who, code, when = (row[i].strip() if i < len(row) else "" for i in (who_at, code_at, when_at))
        try:
            completed_at, problem = _completed_at(when, local), ""
        except ValueError as exc:
            completed_at, problem = None, str(exc)
        rows.append(_Row(reader.line_num, who, code, completed_at, problem))
    return rows


@dataclass
class _Enrolment:
    email: str  # on one course, the first by email wins (the participants' default order)
    pk: int
    course_id: int
    group_id: int | None


def _values_table(values: Sequence[str], alias: str) -> tuple[str, object]:
    """``values`` as a table ``alias`` with one column ``value``, given as one parameter."""
    if connection.vendor == "postgresql":
        return f"unnest(%s::text[]) AS {alias}(value)", list(values)
    return f"json_each(%s) AS {alias}", json.dumps(list(values))


def _enrolments(rows: list[_Row], live: QuerySet[Participant]) -> dict[str, list[_Enrolment]]:
    """Each identifier of the file -> the live enrolments it names (by email or TRN).

    One statement: the participants whose user's ``lower(email)`` (its unique index) or whose
    TRN (its index) is among the file's, each side a join of its own in a UNION (an OR across
    the two tables would read every participant; joins, not IN, let the planner see how many
    identifiers there are: index lookups for a few, one pass for most of the participants)."""
    whos = {row.who for row in rows if row.who and not row.problem}
    if not whos:
        return {}
    # An email has an @ (a TRN has not): each identifier is looked up where it can be found.
    emails, email_param = _values_table(sorted({who.lower() for who in whos if "@" in who}), "e")
    trns, trn_param = _values_table(sorted({t for who in whos if len(t := who.replace(" ", "")) <= 7}), "t")
    participants, users = _qn(Participant), _qn(get_user_model())
    named = RawSQL(  # noqa: S611 - names from the models, values are parameters
        f"SELECT p.id FROM {emails} JOIN {users} u ON lower(u.email) = e.value"  # noqa: S608
        f" JOIN {participants} p ON p.user_id = u.id"
        f" UNION SELECT p.id FROM {trns} JOIN {participants} p ON p.trn = t.value",
        (email_param, trn_param),
    )
    found = (
        live.filter(pk__in=named)
        .order_by()
        .values_list("pk", "course_id", "group_id", "trn", Lower("user__email"))
    )
    by_email: dict[str, list[_Enrolment]] = defaultdict(list)
    by_trn: dict[str, list[_Enrolment]] = defaultdict(list)
    for pk, course_id, group_id, trn, email in found:
        enrolment = _Enrolment(email, pk, course_id, group_id)
        by_email[email].append(enrolment)
        if trn:
            by_trn[trn].append(enrolment)
    matches = {}
    for who in whos:
        by_both = by_email.get(who.lower(), []) + by_trn.get(who.replace(" ", ""), [])
        if len(by_both) > 1:
            by_both = sorted({e.pk: e for e in by_both}.values(), key=lambda e: (e.email, e.pk))
        matches[who] = by_both
    return matches


@transaction.atomic
def import_lms_completions(
    raw: bytes, *, participants: QuerySet[Participant], activities: QuerySet[Activity], by=None
) -> LmsOutcome:
    """Mark activities completed from an LMS export (one transaction for the whole file)."""
    rows = _read(raw)
    outcome = LmsOutcome(rows=len(rows))
    matches = _enrolments(rows, participants.filter(status__in=Participant.LIVE_STATUSES))
    course_ids = sorted({e.course_id for enrolments in matches.values() for e in enrolments})
    codes = sorted({row.code for row in rows if matches.get(row.who)})
    # (course, code) -> (position in the activities' default order, pk, group): a code is unique
    # in its course; among several courses of one person the first activity in order wins.
    by_code = {}
    if course_ids and codes:
        found = activities.filter(OneOf(F("course_id"), course_ids), OneOf(F("code"), codes))
        for position, (pk, course_id, group_id, code) in enumerate(
            found.values_list("pk", "course_id", "group_id", "code")
        ):
            by_code[course_id, code] = (position, pk, group_id, course_id)

    resolved: list[tuple[_Row, int, int]] = []  # (row, participant, activity) in file order
    touched_courses: set[int] = set()
    for row in rows:
        if row.problem:
            outcome.problems.append((row.line, row.problem))
            continue
        enrolments = matches.get(row.who)
        if not enrolments:
            outcome.problems.append((row.line, f"no participant with email or TRN {row.who!r}"))
            continue
        groups = {e.group_id for e in enrolments}
        candidates = [
            activity
            for e in enrolments
            if (activity := by_code.get((e.course_id, row.code))) and activity[2] in (None, *groups)
        ]
        if not candidates:
            outcome.problems.append((row.line, f"no activity with code {row.code!r} on {row.who}'s course"))
            continue
        _, activity_id, _, course_id = min(candidates)
        participant = next(e for e in enrolments if e.course_id == course_id)
        resolved.append((row, participant.pk, activity_id))
        touched_courses.add(course_id)

    marks = _existing_marks({(participant, activity) for _, participant, activity in resolved})
    writes: dict[tuple[int, int], tuple[datetime, bool]] = {}  # (participant, activity) -> (when, new)
    for row, participant, activity in resolved:
        status = marks.get((participant, activity))
        if status in DONE:
            outcome.unchanged += 1  # also a second line for a mark this file completed
            continue
        writes[participant, activity] = (row.completed_at, status is None)
        marks[participant, activity] = Attendance.Status.COMPLETED
        outcome.loaded += 1
    if writes:
        _write_marks(writes, by=by)

    # Those without a completion in the export have missed an activity the file included once
    # it is past (engagement.tally: "recorded").
    included = sorted({activity for _, _, activity in resolved})
    if included:
        Activity.objects.filter(OneOf(F("pk"), included)).update(imported_on=timezone.localdate())
    for course_id in sorted(touched_courses):
        schedule_tally(course_id=course_id)
    return outcome


def _existing_marks(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(participant, activity) -> status of the marks already recorded for ``pairs``: one
    statement looking each pair up in the unique (participant, activity) index. (On PostgreSQL
    a LATERAL subquery keeps it to those lookups: as a plain join the planner hashes the whole
    attendance table, millions of marks, for a large file.)"""
    if not pairs:
        return {}
    table, values = _rows_table([("participant_id", "bigint"), ("activity_id", "bigint")], sorted(pairs))
    marks = _qn(Attendance)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT v.participant_id, v.activity_id, m.status FROM {table} CROSS JOIN LATERAL"  # noqa: S608 - names from the models
            f" (SELECT status FROM {marks} m WHERE m.participant_id = v.participant_id"
            " AND m.activity_id = v.activity_id LIMIT 1) m"  # LIMIT: looked up, not joined
        )
    else:
        sql = (
            f"SELECT m.participant_id, m.activity_id, m.status FROM {table} JOIN {marks} m"  # noqa: S608
            " ON m.participant_id = v.participant_id AND m.activity_id = v.activity_id"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return {(participant, activity): status for participant, activity, status in cursor.fetchall()}


def _write_marks(writes: dict[tuple[int, int], tuple[datetime, bool]], *, by) -> None:
    """Insert the new marks and complete the others in one upsert, with their history as
    ``save()`` would record it ('+' new, '~' changed): on PostgreSQL in the same statement, from
    the rows the upsert returns; elsewhere in a second one."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    by_id = by.pk if by is not None else None
    table, values = _rows_table(
        [
            ("participant_id", "bigint"),
            ("activity_id", "bigint"),
            ("completed_at", "timestamptz"),
            ("new", "int"),
        ],
        [
            (participant, activity, connection.ops.adapt_datetimefield_value(when), int(new))
            for (participant, activity), (when, new) in sorted(writes.items())
        ],
    )
    marks = _qn(Attendance)
    done = ", ".join(f"'{status}'" for status in DONE)
    upsert = (
        f"INSERT INTO {marks} (participant_id, activity_id, status, recorded_by_id, recorded_at, completed_at)"  # noqa: S608 - names from the models, values are parameters
        " SELECT v.participant_id, v.activity_id, %s, %s, %s, v.completed_at FROM {rows} WHERE true"
        " ON CONFLICT (participant_id, activity_id) DO UPDATE SET status = EXCLUDED.status,"
        " recorded_by_id = EXCLUDED.recorded_by_id, recorded_at = EXCLUDED.recorded_at,"
        f" completed_at = EXCLUDED.completed_at WHERE {marks}.status NOT IN ({done})"
    )
    upsert_params = [Attendance.Status.COMPLETED, by_id, now]
    keep_history = getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
    history = Attendance.history.model
    tracked = [history._meta.get_field(f.name).column for f in history.tracked_fields]
    into_history = (
        f"INSERT INTO {_qn(history)} ({', '.join(tracked)}, history_date, history_change_reason,"
        f" history_type, history_user_id) SELECT {', '.join(f'm.{c}' for c in tracked)}, %s, NULL,"
        " CASE WHEN v.new = 1 THEN '+' ELSE '~' END, %s"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # v is read once; the history joins the rows written (returned) to it.
            sql = f"WITH v AS (SELECT * FROM {table}), written AS ({upsert.format(rows='v')}"  # noqa: S608
            if not keep_history:
                cursor.execute(f"{sql}) SELECT count(*) FROM written", [*values, *upsert_params])  # noqa: S608
                return
            sql += (
                f" RETURNING {', '.join(tracked)}) {into_history} FROM written m JOIN v"
                " ON m.participant_id = v.participant_id AND m.activity_id = v.activity_id"
            )
            cursor.execute(sql, [*values, *upsert_params, now, by_id])
            return
        cursor.execute(upsert.format(rows=table), [*upsert_params, *values])
        if keep_history:
            cursor.execute(
                f"{into_history} FROM {marks} m JOIN {table}"
                " ON m.participant_id = v.participant_id AND m.activity_id = v.activity_id",
                [now, by_id, *values],
            )


def _qn(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
