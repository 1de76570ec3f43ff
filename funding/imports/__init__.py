"""Imports of GIAS establishments and DfE eligibility lists from CSV files.

Both are idempotent (importing the same file again changes nothing) and all or nothing: a file
is read through once to check it (its encoding, every row's shape; progress and a heartbeat
written as it goes), then loaded in one transaction, so a file that is refused, an error or a
killed worker leaves the data as it was (docs/decisions.md, 25). GIAS rows are staged in a
temporary table as they are checked (COPY), then loaded with one upsert (decisions.md, 32). Bad values in a row skip that
row, reported with its line number; a row of the wrong shape refuses the file.

A list is replaced only by a file that would keep at least half of it, unless a superuser has
seen the changes and confirmed them (``ImportRun.Status.NEEDS_CONFIRMATION``).
"""

from common.csv_files import MalformedFile, decode

from .eligibility_lists import identifier_names, import_eligibility_list
from .gias import import_gias
from .outcome import Outcome, summary
from .runs import (
    RUN_AGAIN_STATUSES,
    import_run_again,
    import_run_cancel,
    import_run_confirm,
    import_run_execute,
    import_runs_fail_stale,
)

__all__ = [
    "RUN_AGAIN_STATUSES",
    "MalformedFile",
    "Outcome",
    "decode",
    "identifier_names",
    "import_eligibility_list",
    "import_gias",
    "import_run_again",
    "import_run_cancel",
    "import_run_confirm",
    "import_run_execute",
    "import_runs_fail_stale",
    "summary",
]
