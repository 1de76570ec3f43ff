"""Writes to engagement records: activities, registers and calendar addresses."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.db import transaction

from accounts.models import User
from programmes.models import Group
from programmes.services import EnrolmentError

from .models import Activity, Attendance, CalendarFeed

# --- Activities -----------------------------------------------------------------------------


def activity_save(*, activity: Activity) -> Activity:
    """Save an activity; a group's activity always belongs to the group's course."""
    if activity.group_id:
        activity.course_id = Group.objects.values_list("course_id", flat=True).get(pk=activity.group_id)
    activity.save()
    return activity


# --- Registers ------------------------------------------------------------------------------

REGISTER_MARKS = (Attendance.Status.ATTENDED, Attendance.Status.ABSENT, Attendance.Status.EXCUSED)


@transaction.atomic
def register_save(
    *, activity: Activity, marks: Mapping[int, str], by: User, roster: set[int] | None = None
) -> int:
    """Save the register of ``activity``: participant id -> attended / absent / excused.

    All or nothing: one unknown participant or mark and no row is written. Saving again
    corrects earlier marks. Returns the number of marks saved.
    """
    from .selectors import register_roster

    everyone = set(register_roster(activity=activity).values_list("pk", flat=True))
    roster = everyone if roster is None else roster & everyone
    unknown = set(marks) - roster
    if unknown:
        raise EnrolmentError("Some participants are not on this register; reload the page and try again.")
    bad = {mark for mark in marks.values() if mark not in REGISTER_MARKS}
    if bad:
        raise EnrolmentError(f"Unknown mark {sorted(bad)[0]!r}.")
    from .tally import registers_taken

    # Two saves of one register take turns (the activity row is locked until commit).
    Activity.objects.select_for_update().filter(pk=activity.pk).first()
    registers_taken(activity=activity, participant_ids=set(marks), by=by)
    existing = {a.participant_id: a for a in Attendance.objects.select_for_update().filter(activity=activity)}
    for participant_id, mark in marks.items():
        attendance = existing.get(participant_id) or Attendance(
            activity=activity, participant_id=participant_id
        )
        if attendance.pk and attendance.status == mark:
            continue
        attendance.status = mark
        attendance.recorded_by = by
        attendance._history_user = by
        attendance.save()
    from .tally import schedule_tally

    schedule_tally(course_id=activity.course_id)
    return len(marks)


# --- Calendar feeds -------------------------------------------------------------------------


def calendar_feed_rotate(*, user: User) -> CalendarFeed:
    """Create ``user``'s calendar address, or replace it so that the old one stops working."""
    feed, _ = CalendarFeed.objects.update_or_create(user=user, defaults={"token": secrets.token_urlsafe(32)})
    return feed
