"""Reads for staff running an assessment window: where it is now, its steps, and every entry and
script with its state in words (the admin *Manage* page). A fixed number of queries, whatever
the number of entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import ngettext

from common.dates import govuk_datetime

from .models import AssessmentWindow, Entry, MarkingAssignment, Submission
from .services import final_result

Role = MarkingAssignment.Role
ROLE_ORDER = {Role.FIRST: 0, Role.MODERATION: 1, Role.LEAD: 2}


@dataclass(frozen=True)
class Step:
    key: str  # the manage page's action: open, assign, moderate, release
    title: str
    does: str  # what the step does, in a sentence or two
    state: str  # done, current or later
    progress: str  # how far it has gone, in words

    @property
    def state_label(self) -> str:
        return {"done": "Done", "current": "Now", "later": "Not yet"}[self.state]


@dataclass(frozen=True)
class EntryRow:
    entry: Entry
    access: str
    response: str
    marking: list[str]
    result: str


@dataclass
class WindowOverview:
    window: AssessmentWindow
    stage: str  # where the window is now, in a sentence
    steps: list[Step]
    rows: list[EntryRow]
    entries: int = 0
    with_access: int = 0
    submitted: int = 0
    scripts: int = 0  # submitted responses given out for first marking
    first_marked: int = 0
    pool: int = 0
    unassigned: int = 0  # submitted, not given to a marker yet
    moderation: int = 0
    moderated: int = 0
    leads: int = 0
    leads_decided: int = 0
    decided: int = 0  # scripts with a final mark
    notes: list[str] = field(default_factory=list)


def _entries(window: AssessmentWindow):
    return (
        window.entries.select_related("participant__user", "outcome")
        .prefetch_related(
            Prefetch("marking", queryset=MarkingAssignment.objects.select_related("marker")),
            Prefetch(
                "submissions",
                # Only what the list shows: never the responses' text.
                queryset=Submission.objects.only("id", "entry_id", "submitted_at", "word_count").order_by(
                    "-submitted_at", "-pk"
                ),
                to_attr="submission_list",
            ),
        )
        .order_by("participant__user__full_name", "participant__user__email", "pk")
    )


def _latest(entry: Entry) -> Submission | None:
    """The submission that counts (``services.latest_submission``), from the prefetched list."""
    return next((s for s in entry.submission_list if s.submitted_at <= entry.closes_at), None)


def _access(entry: Entry) -> str:
    engagement = (
        f"engagement {entry.engagement_at_opening:.0f}%"
        if entry.engagement_at_opening is not None
        else "engagement not started"
    )
    if entry.access == Entry.Access.ENGAGEMENT:
        words = f"Yes: {engagement}"
    elif entry.access == Entry.Access.GRANTED:
        words = "Yes: granted by staff"
    else:
        words = f"No: {engagement}"
    if entry.extended_until:
        words += f"; extended to {govuk_datetime(entry.extended_until, 'j M Y')}"
    return words


def _who(user) -> str:
    return user.get_full_name() if user is not None else ""


def _marking(assignments: list[MarkingAssignment]) -> list[str]:
    lines = []
    for a in assignments:
        role = a.get_role_display()
        if a.result:
            lines.append(
                f"{role}: {a.get_result_display().lower()}, by {_who(a.marker) or 'a marker who left'}"
            )
        elif a.marker_id:
            lines.append(f"{role}: with {_who(a.marker)}, not marked yet")
        else:
            lines.append(f"{role}: waiting for a marker (theirs left the hub)")
    return lines


def _count(n: int, one: str, many: str) -> str:
    return ngettext(one, many, n) % {"n": f"{n:,}"}


def window_overview(*, window: AssessmentWindow, now: datetime | None = None) -> WindowOverview:
    now = now or timezone.now()
    released = window.results_released_at is not None
    overview = WindowOverview(window=window, stage="", steps=[], rows=[])
    for entry in _entries(window):
        entry.window = window
        assignments = sorted(entry.marking.all(), key=lambda a: ROLE_ORDER.get(a.role, 9))
        latest = _latest(entry) if entry.may_submit else None
        overview.entries += 1
        overview.with_access += entry.may_submit
        overview.submitted += latest is not None
        result = "–"
        for a in assignments:
            if a.role == Role.FIRST:
                overview.scripts += 1
                overview.first_marked += bool(a.result)
            elif a.role == Role.MODERATION:
                overview.moderation += 1
                overview.moderated += bool(a.result)
            else:
                overview.leads += 1
                overview.leads_decided += bool(a.result)
            overview.pool += a.marker_id is None
        if latest is not None and not any(a.role == Role.FIRST for a in assignments):
            overview.unassigned += 1
        final = final_result(entry) if assignments else None
        overview.decided += final is not None
        if released and hasattr(entry, "outcome"):
            result = entry.outcome.get_result_display()
        elif final:
            result = f"{MarkingAssignment.Result(final).label} (not released yet)"
        if not entry.may_submit:
            response = "–"
        elif latest is not None:
            words = ngettext("%(n)s word", "%(n)s words", latest.word_count) % {"n": f"{latest.word_count:,}"}
            response = f"Submitted at {govuk_datetime(latest.submitted_at, 'j M Y')} ({words})"
        elif now <= entry.closes_at:
            response = "Not submitted yet"
        else:
            response = "Nothing submitted"
        marking = _marking(assignments)
        if latest is not None and not assignments:
            marking = ["Not given to a marker yet"]
        overview.rows.append(
            EntryRow(entry=entry, access=_access(entry), response=response, marking=marking, result=result)
        )
    overview.steps = _steps(overview, now)
    overview.stage = _stage(overview, now)
    return overview


def _steps(o: WindowOverview, now: datetime) -> list[Step]:
    window = o.window
    opened = now >= window.opens_at
    closed = now > window.closes_at
    released = window.results_released_at is not None
    all_first_marked = o.scripts > 0 and o.first_marked == o.scripts and not o.unassigned
    second_done = o.moderated == o.moderation and o.leads_decided == o.leads
    if released:
        done = dict.fromkeys(("open", "assign", "moderate", "release"), True)
    else:
        # Given out and first-marked; moderated (nothing to moderate when nobody submitted).
        done = {
            "open": opened and o.entries > 0,
            "assign": closed and not o.unassigned and not o.pool and o.first_marked == o.scripts,
            "moderate": (closed and o.scripts == 0)
            or (all_first_marked and o.moderation > 0 and second_done),
            "release": False,
        }
    progress = {"open": "", "assign": "", "moderate": "", "release": ""}
    if opened:
        progress["open"] = (
            _count(o.entries, "%(n)s entry made", "%(n)s entries made")
            + f": {o.with_access:,} with access, {o.submitted:,} submitted."
        )
    else:
        progress["open"] = f"The window opens on {window.opens_at:%-d %B %Y}."
    parts = [
        _count(o.scripts, "%(n)s script given out", "%(n)s scripts given out")
        + f", {o.first_marked:,} marked"
    ]
    if o.unassigned:
        parts.append(
            _count(o.unassigned, "%(n)s response not given out yet", "%(n)s responses not given out yet")
        )
    if o.pool:
        parts.append(
            _count(o.pool, "%(n)s script waiting for a marker", "%(n)s scripts waiting for a marker")
        )
    progress["assign"] = "; ".join(parts) + "."
    parts = [
        _count(o.moderation, "%(n)s script sent for moderation", "%(n)s scripts sent for moderation")
        + f", {o.moderated:,} moderated"
    ]
    if o.leads:
        parts.append(
            _count(o.leads, "%(n)s disagreement for a lead", "%(n)s disagreements for a lead")
            + f", {o.leads_decided:,} decided"
        )
    progress["moderate"] = "; ".join(parts) + "."
    if released:
        progress["release"] = f"Released at {govuk_datetime(window.results_released_at)}."
    else:
        progress["release"] = (
            _count(o.decided, "%(n)s script has its final mark", "%(n)s scripts have their final mark")
            + f", of {o.submitted:,} submitted."
        )
    steps = [
        Step(
            "open",
            "Open the window: make the entries",
            "An entry for each participant still on the course, with their engagement on the "
            "opening day: 90% or more gives access. A nightly job makes them when the window "
            "opens; make them now if it has not run, or for someone enrolled since.",
            "",
            progress["open"],
        ),
        Step(
            "assign",
            "Give scripts to markers",
            "Each submitted response that has no marker, and any script whose marker left the "
            "hub, goes to the markers you choose, in turn. Nobody marks a script twice. Markers "
            "see their scripts under Marking.",
            "",
            progress["assign"],
        ),
        Step(
            "moderate",
            "Moderate",
            "Once every script has its first mark: every fail and a share of the passes go to a "
            "moderator who did not mark them. Where moderator and marker disagree, a hub "
            "administrator who marked neither decides.",
            "",
            progress["moderate"],
        ),
        Step(
            "release",
            "Release the results",
            "After the window closes, once every script has its final mark: every participant "
            "with access gets their result together, on their assessment page and by email. "
            "Anyone with access who submitted nothing fails.",
            "",
            progress["release"],
        ),
    ]
    current = next((s.key for s in steps if not done[s.key]), None)
    return [
        Step(
            s.key,
            s.title,
            s.does,
            "done" if done[s.key] else ("current" if s.key == current else "later"),
            s.progress,
        )
        for s in steps
    ]


def _stage(o: WindowOverview, now: datetime) -> str:
    window = o.window
    if window.results_released_at is not None:
        return f"Finished: results were released at {govuk_datetime(window.results_released_at)}."
    if now < window.opens_at:
        return f"Not open yet: the window opens on {window.opens_at:%A %-d %B %Y}."
    current = next((s for s in o.steps if s.state == "current"), None)
    next_step = f" Next: {current.title[0].lower()}{current.title[1:]}." if current else ""
    if now <= window.closes_at:
        return (
            f"Open: participants with access can submit until 11:59pm on "
            f"{window.closes_at:%A %-d %B %Y} (UK time).{next_step}"
        )
    return f"Closed on {window.closes_at:%A %-d %B %Y}.{next_step}"
