"""The kinds of record the retention schedule covers, and their defaults (seeded by migration
0002; staff change the periods in admin). What each kind's event is, and what happens to a
record when its time is up, is in the privacy/retention/ package."""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    label: str
    event: str
    period: int
    unit: str
    action: str


KINDS: dict[str, Kind] = {
    "unfinished_applications": Kind(
        "Unfinished and expired applications", "after the time to finish it ran out", 30, "days", "deleted"
    ),
    "closed_applications": Kind(
        "Rejected and withdrawn applications",
        "after the decision",
        1,
        "years",
        "anonymised (counts kept)",
    ),
    "endorsements": Kind(
        "Endorsement requests (the endorser's name, address and reason)",
        "after the link was used or expired",
        1,
        "years",
        "anonymised (the decision kept)",
    ),
    "assessment_scripts": Kind(
        "Assessment responses and their files", "after the results were released", 12, "months", "deleted"
    ),
    "attendance": Kind("Engagement marks", "after the course's delivery ended", 7, "years", "deleted"),
    "participants": Kind(
        "Everything about a participant",
        "after they completed or left their last course",
        7,
        "years",
        "anonymised as on erasure (funding records and counts kept)",
    ),
    "inactive_accounts": Kind(
        "Accounts of people who never enrolled (applicants, endorsers)",
        "after they last signed in, with no application still open",
        2,
        "years",
        "anonymised as on erasure",
    ),
    "notifications": Kind("Emails sent (notifications)", "after they were recorded", 2, "years", "deleted"),
    "uploaded_files": Kind(
        "Uploaded files no record refers to any more", "after the file was written", 30, "days", "deleted"
    ),
    "import_files": Kind(
        "Import files (GIAS, eligibility lists)",
        "after the import was made",
        90,
        "days",
        "file deleted (the run's counts kept)",
    ),
    "subject_access_exports": Kind(
        "Copies of personal data (subject access exports)",
        "after the copy was made",
        7,
        "days",
        "file deleted",
    ),
    "access_log": Kind("Access log entries", "after the access", 2, "years", "deleted"),
    "sessions": Kind("Sign-in sessions", "after they expired", 0, "days", "deleted"),
    "job_runs": Kind("Records of scheduled job runs", "after the run started", 90, "days", "deleted"),
}

KIND_CHOICES = [(code, kind.label) for code, kind in KINDS.items()]
