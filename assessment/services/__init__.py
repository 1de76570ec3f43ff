"""Assessment rules: entry, submission, marking, moderation and release. Views only call these.

By concern: ``entries`` (windows, entries, access, extensions), ``submissions``, ``marking``
(markers, marks, leads, moderation) and ``results`` (final marks, release). Callers import
from here.
"""

from .entries import (
    AssessmentError,
    entry_extend,
    entry_for,
    entry_grant_access,
    window_create,
    window_open_entries,
)
from .marking import (
    is_current_marker,
    mark,
    markers_assign,
    marking_pool_size,
    marking_return_to_pool,
    moderation_sample,
)
from .results import final_result, marking_overdue, results_release
from .submissions import latest_submission, shown_file_name, submission_create

__all__ = [
    "AssessmentError",
    "entry_extend",
    "entry_for",
    "entry_grant_access",
    "final_result",
    "is_current_marker",
    "latest_submission",
    "mark",
    "markers_assign",
    "marking_overdue",
    "marking_pool_size",
    "marking_return_to_pool",
    "moderation_sample",
    "results_release",
    "shown_file_name",
    "submission_create",
    "window_create",
    "window_open_entries",
]
