"""iCalendar (RFC 5545) feeds of sessions and deadlines, written by the `icalendar` package.

The library escapes text (backslash, `;`, `,` and every line break, including a lone carriage
return), folds long lines at 75 octets without splitting a UTF-8 character, and writes dates and
UTC times, so titles, venues and names typed by people cannot break a line or add a property.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import icalendar

from .models import Activity

PRODID = "-//NPQ Portal//Sessions and deadlines//EN"

# RFC 5545 3.3.11: TEXT may not hold control characters other than HTAB. Line breaks (CR, LF)
# are kept: the library writes each as the escape `\n`.
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str) -> icalendar.vText:
    return icalendar.vText(_FORBIDDEN_CONTROLS.sub("", value))


def _event(*, activity: Activity, domain: str, now: datetime) -> icalendar.Event:
    course = activity.course
    event = icalendar.Event()
    event.add("uid", f"activity-{activity.pk}@{domain}")
    event.add("dtstamp", now.astimezone(UTC))
    if activity.starts_at:
        ends_at = activity.ends_at or activity.starts_at + timedelta(hours=1)
        event.add("dtstart", activity.starts_at.astimezone(UTC))
        event.add("dtend", ends_at.astimezone(UTC))
        summary = f"{course.programme.code}: {activity.title}"
    else:
        event.add("dtstart", activity.due_on)
        event.add("dtend", activity.due_on + timedelta(days=1))
        summary = f"{course.programme.code} deadline: {activity.title}"
    event.add("summary", _text(summary))
    description = f"{activity.get_kind_display()} – {course.programme.name}, {course.cohort.hub.name}"
    event.add("description", _text(description))
    if activity.group and activity.group.venue:
        event.add("location", _text(activity.group.venue))
    return event


def render_calendar(*, name: str, activities: Iterable[Activity], domain: str, now: datetime) -> str:
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # An X- property is not known to be TEXT, so the library would not escape it unless told.
    calendar.add("x-wr-calname", _text(name))
    for activity in activities:
        calendar.add_component(_event(activity=activity, domain=domain, now=now))
    # Properties in the order added (the tests and subscribers see UID first in each event).
    return calendar.to_ical(sorted=False).decode()
