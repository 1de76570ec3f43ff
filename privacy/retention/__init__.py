"""The retention schedule: which records are due to go, and what going means for each kind.

The periods are data (RetentionRule, seeded from privacy/kinds.py and edited in admin); a hub's
own rule replaces the portal's for that hub's records. The nightly job (privacy.tasks) takes
what is due in batches, each batch one transaction whose files are deleted after it commits;
what it has done is not due any more, so a second run (or a retry) finds nothing left.
Anonymised rows stay, so counts and funding history hold.

By concern: ``schedule`` (each kind's schedule, and the cutoff a period gives), ``conditions``
(when each kind's rows become due), ``actions`` (what going means for each kind), ``due`` (which
rows are due now, under the portal's and the hubs' rules), ``job`` (the nightly job) and
``report`` (the schedule in words, and what goes within a month).
"""

from .due import UPLOAD_FOLDERS, due_count, orphan_files_due, people_due, rows_due
from .job import BATCH_SIZE, PEOPLE_BATCH_SIZE, retention_apply
from .report import ScheduleRow, period_words, retention_report, schedule_rows
from .schedule import FILE_KIND, SCHEDULES, Schedule, before

__all__ = [
    "BATCH_SIZE",
    "FILE_KIND",
    "PEOPLE_BATCH_SIZE",
    "SCHEDULES",
    "UPLOAD_FOLDERS",
    "Schedule",
    "ScheduleRow",
    "before",
    "due_count",
    "orphan_files_due",
    "people_due",
    "period_words",
    "retention_apply",
    "retention_report",
    "rows_due",
    "schedule_rows",
]
