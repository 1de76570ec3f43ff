"""The benchmark's table: reading wrk's output, formatting the rows, and replacing the marked
section of docs/benchmarks.md. Pure functions (no Django, no database), tested in the suite.

A row is a dict, as every measurement returns them:
``what`` (the measurement), ``measured_s`` (seconds, or None when not measured), ``measured``
(optional words for the measured column, e.g. "p99 120 ms (p50 80 ms)"), ``baseline`` (what the
baseline is), ``baseline_s`` (its seconds, measured in the same run), ``ratio`` (measured /
baseline), ``queries`` (optional: database queries of one request), ``goal`` (in words),
``met`` (True, False, or None when not measured or without a goal) and ``notes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
COLUMNS = ("measurement", "measured", "baseline", "ratio", "queries", "goal", "met")

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*([\d.]+)(us|ms|s|m|h)\s*$")


class WrkOutputError(ValueError):
    """wrk's output did not have the figures the benchmark reads (it failed, or changed format)."""


def parse_duration(text: str) -> float:
    """``"12.34ms"`` -> 0.01234 (seconds), as wrk prints latencies."""
    match = _DURATION.match(text)
    if not match:
        raise WrkOutputError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, float | int]:
    """The figures of one ``wrk --latency`` run: latency percentiles in seconds, the requests
    completed, requests per second, responses that were not 2xx/3xx and socket errors."""
    result: dict[str, float | int] = {}
    in_distribution = False
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("Latency Distribution"):
            in_distribution = True
            continue
        if in_distribution:
            percentile = re.match(r"^(\d+(?:\.\d+)?)%\s+(\S+)$", stripped)
            if percentile:
                result[f"p{percentile.group(1).removesuffix('.000')}"] = parse_duration(percentile.group(2))
                continue
            in_distribution = False
        if match := re.match(r"^(\d+) requests in ", stripped):
            result["requests"] = int(match.group(1))
        elif match := re.match(r"^Requests/sec:\s+([\d.]+)", stripped):
            result["requests_per_s"] = float(match.group(1))
        elif match := re.match(r"^Non-2xx or 3xx responses:\s+(\d+)", stripped):
            result["non_2xx_3xx"] = int(match.group(1))
        elif match := re.match(
            r"^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", stripped
        ):
            result["socket_errors"] = sum(int(n) for n in match.groups())
            result["timeouts"] = int(match.group(4))
    missing = [key for key in ("p50", "p99", "requests") if key not in result]
    if missing:
        raise WrkOutputError(f"wrk's output has no {', '.join(missing)}: {output.strip()[:500]!r}")
    result.setdefault("non_2xx_3xx", 0)
    result.setdefault("socket_errors", 0)
    result.setdefault("timeouts", 0)
    return result


def format_seconds(seconds: float | None) -> str:
    """A time for people: milliseconds under 1 s (a decimal under 100 ms), else seconds."""
    if seconds is None:
        return "–"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s"


def not_measured(what: str, error: str, goal: str = "") -> dict[str, object]:
    """The row of a measurement that could not be taken, with why."""
    return {
        "what": what,
        "measured_s": None,
        "baseline": "",
        "baseline_s": None,
        "ratio": None,
        "goal": goal,
        "met": None,
        "notes": f"not measured: {error}",
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_cells(row: Mapping[str, object]) -> list[str]:
    """The seven cells of a row, in COLUMNS order."""
    measured_s = row.get("measured_s")
    if measured_s is None:
        measured = "not measured"
    else:
        measured = str(row.get("measured") or format_seconds(measured_s))  # type: ignore[arg-type]
    baseline = str(row.get("baseline") or "")
    if row.get("baseline_s") is not None:
        seconds = format_seconds(row["baseline_s"])  # type: ignore[arg-type]
        baseline = f"{baseline}: {seconds}" if baseline else seconds
    ratio = row.get("ratio")
    queries = row.get("queries")
    return [
        _cell(row.get("what", "")),
        _cell(measured),
        _cell(baseline or "–"),
        _cell(f"{ratio:.2f}" if isinstance(ratio, int | float) else "–"),
        _cell(queries if queries is not None else "–"),
        _cell(row.get("goal") or "–"),
        _met_cell(row),
    ]


def _met_cell(row: Mapping[str, object]) -> str:
    if row.get("measured_s") is None or (row.get("met") is None and row.get("goal")):
        return "not measured"
    if row.get("met") is None:  # a row without a goal: a baseline
        return "–"
    return "yes" if row["met"] else "**no**"


def format_table(rows: Iterable[Mapping[str, object]]) -> str:
    """The rows as one Markdown table, then the notes of the rows that have some."""
    rows = list(rows)
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    lines += ["| " + " | ".join(table_cells(row)) + " |" for row in rows]
    notes = [f"- {_cell(row['what'])}: {_cell(row['notes'])}" for row in rows if row.get("notes")]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def replace_section(document: str, section: str) -> str:
    """``document`` with the text between the bench markers replaced by ``section`` (the
    markers kept); without markers, the section is added at the end, between new markers.
    A start marker without its end is an error: guessing where the section ends could delete
    prose."""
    block = f"{START_MARKER}\n{section.strip()}\n{END_MARKER}"
    start = document.find(START_MARKER)
    end = document.find(END_MARKER, start + 1) if start != -1 else document.find(END_MARKER)
    if start == -1 and end == -1:
        return f"{document.rstrip()}\n\n{block}\n" if document.strip() else f"{block}\n"
    if start == -1 or end == -1:
        raise ValueError(f"docs/benchmarks.md has one of {START_MARKER} and {END_MARKER} without the other")
    return document[:start] + block + document[end + len(END_MARKER) :]
