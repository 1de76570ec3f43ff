"""What the import measurements (bench/imports_lms.py, bench/imports_gias.py) share: each run
undone after it is timed (the bench dataset is shared by every measurement), and the machine's
load to report beside the times."""

from __future__ import annotations

import os
import time

RUNS = 3  # the better of three runs each, alternating: the machine is shared


class Rollback(Exception):
    """Raised to undo a measured run (the dataset is shared by every measurement)."""


def rolled_back(work, check=None) -> tuple[float, object, object]:
    """Time ``work()`` inside a transaction, look at its effect with ``check()``, then undo it."""
    from django.db import transaction

    result = checked = None
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - started
            checked = check() if check else None
            raise Rollback
    except Rollback:
        pass
    return seconds, result, checked


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
