"""The benchmark harness's pure parts: reading wrk, the table, and the marked section of
docs/benchmarks.md. (The benchmark itself runs with `make bench`, not in the suite.)"""

import sys
import types

import pytest

from bench.report import (
    END_MARKER,
    START_MARKER,
    WrkOutputError,
    format_seconds,
    format_table,
    not_measured,
    parse_duration,
    parse_wrk,
    replace_section,
)
from bench.run import module_rows

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:41234/admin/applications/application/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   456.12ms  100.33ms   2.50s    75.00%
    Req/Sec     8.50      2.10    11.00     70.00%
  Latency Distribution
     50%  430.00ms
     75%  501.20ms
     90%  580.00ms
     99%    1.20s
  177 requests in 10.01s, 20.50MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:     17.68
Transfer/sec:      2.05MB
"""


def test_wrk_output_is_read_in_seconds():
    figures = parse_wrk(WRK_OUTPUT)

    assert figures["p50"] == pytest.approx(0.430)
    assert figures["p90"] == pytest.approx(0.580)
    assert figures["p99"] == pytest.approx(1.2)
    assert figures["requests"] == 177
    assert figures["requests_per_s"] == pytest.approx(17.68)
    assert figures["non_2xx_3xx"] == 3
    assert figures["socket_errors"] == 3
    assert figures["timeouts"] == 2


def test_a_clean_wrk_run_has_no_errors_counted():
    clean = WRK_OUTPUT.replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "").replace(
        "  Non-2xx or 3xx responses: 3\n", ""
    )

    figures = parse_wrk(clean)

    assert (figures["non_2xx_3xx"], figures["socket_errors"], figures["timeouts"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("850.00us", 0.00085), ("12.5ms", 0.0125), ("1.20s", 1.2), ("1.50m", 90.0)],
)
def test_wrk_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_a_failed_wrk_run_is_an_error_not_a_zero():
    with pytest.raises(WrkOutputError, match="p50, p99, requests"):
        parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.0123, "12.3 ms"), (0.25, "250 ms"), (2.345, "2.35 s"), (57.04, "57.0 s"), (None, "–")],
)
def test_times_read_in_people_s_units(seconds, words):
    assert format_seconds(seconds) == words


def test_the_table_has_one_line_per_measurement_and_their_notes():
    rows = [
        {
            "what": "GIAS import, 50k rows",
            "measured_s": 9.9,
            "baseline": "COPY + upsert",
            "baseline_s": 0.72,
            "ratio": 13.75,
            "goal": "within 2× of COPY + upsert",
            "met": False,
            "notes": "328 MB | peak",
        },
        {
            "what": "admin participants changelist",
            "measured_s": 0.2,
            "measured": "p99 200 ms (p50 90.0 ms)",
            "baseline": "signed-in view p99",
            "baseline_s": 0.05,
            "ratio": 4.0,
            "queries": 12,
            "goal": "p99 < 300 ms",
            "met": True,
            "notes": "",
        },
        not_measured("tally", "ImportError: no module", goal="within 1.3×"),
        {"what": "signed-in view", "measured_s": 0.05, "goal": "", "met": None},
    ]

    lines = format_table(rows).splitlines()

    assert lines[0] == "| measurement | measured | baseline | ratio | queries | goal | met |"
    assert lines[2] == (
        "| GIAS import, 50k rows | 9.90 s | COPY + upsert: 720 ms | 13.75 | – | within 2× of COPY + upsert | **no** |"
    )
    assert lines[3] == (
        "| admin participants changelist | p99 200 ms (p50 90.0 ms) | signed-in view p99: 50.0 ms | 4.00 | 12 "
        "| p99 < 300 ms | yes |"
    )
    assert lines[4] == "| tally | not measured | – | – | – | within 1.3× | not measured |"
    assert lines[5] == "| signed-in view | 50.0 ms | – | – | – | – | – |"
    assert lines[7:] == [
        "- GIAS import, 50k rows: 328 MB \\| peak",
        "- tally: not measured: ImportError: no module",
    ]


def test_the_marked_section_is_replaced_and_the_prose_around_it_kept():
    document = (
        f"# Benchmarks\n\nIntro.\n\n{START_MARKER}\nold table\n{END_MARKER}\n\n## Tally\n\nExplained.\n"
    )

    updated = replace_section(document, "new table\n")

    assert (
        updated
        == f"# Benchmarks\n\nIntro.\n\n{START_MARKER}\nnew table\n{END_MARKER}\n\n## Tally\n\nExplained.\n"
    )
    assert replace_section(updated, "new table") == updated


def test_without_markers_the_section_is_added_at_the_end():
    assert replace_section("# Benchmarks\n\nProse.\n", "table") == (
        f"# Benchmarks\n\nProse.\n\n{START_MARKER}\ntable\n{END_MARKER}\n"
    )


def test_a_start_marker_without_its_end_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="without the other"):
        replace_section(f"# Benchmarks\n{START_MARKER}\nold\n\n## Prose that must stay\n", "table")


def test_each_measurement_function_gives_its_rows_and_a_failing_one_a_not_measured_row(monkeypatch):
    module = types.ModuleType("bench_fake_measurements")

    def measure_tally():
        return [{"what": "tally", "measured_s": 3.6, "baseline_s": 3.5, "ratio": 1.03, "met": True}]

    def measure_broken():
        raise RuntimeError("no participants in the database")

    module.MEASUREMENTS = [measure_tally, measure_broken]
    monkeypatch.setitem(sys.modules, module.__name__, module)

    rows = module_rows(module.__name__, log=lambda text: None)

    assert [(row["what"], row["measured_s"], row["met"]) for row in rows] == [
        ("tally", 3.6, True),
        ("bench_fake_measurements.measure_broken", None, None),
    ]
    assert rows[0]["goal"] is None  # every key of a row is there, present or not
    assert rows[1]["notes"] == "not measured: RuntimeError: no participants in the database"


def test_a_measurement_module_that_cannot_be_imported_is_a_not_measured_row():
    (row,) = module_rows("bench.no_such_measurements", log=lambda text: None)

    assert row["met"] is None
    assert row["notes"].startswith("not measured: cannot import: ModuleNotFoundError")
