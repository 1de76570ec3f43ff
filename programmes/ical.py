"""iCalendar (RFC 5545) rendering of sessions and deadlines, with no extra dependency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .models import Activity

PRODID = "-//NPQ Portal//Sessions and deadlines//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_calendar(*, name: str, activities: Iterable[Activity], domain: str, now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for activity in activities:
        course = activity.course
        where = activity.group.venue if activity.group and activity.group.venue else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:activity-{activity.pk}@{domain}",
            f"DTSTAMP:{_utc(now)}",
        ]
        if activity.starts_at:
            ends_at = activity.ends_at or activity.starts_at + timedelta(hours=1)
            lines += [f"DTSTART:{_utc(activity.starts_at)}", f"DTEND:{_utc(ends_at)}"]
            summary = f"{course.programme.code}: {activity.title}"
        else:
            due = activity.due_on
            lines += [
                f"DTSTART;VALUE=DATE:{due:%Y%m%d}",
                f"DTEND;VALUE=DATE:{due + timedelta(days=1):%Y%m%d}",
            ]
            summary = f"{course.programme.code} deadline: {activity.title}"
        lines.append(f"SUMMARY:{_escape(summary)}")
        description = f"{activity.get_kind_display()} – {course.programme.name}, {course.cohort.hub.name}"
        lines.append(f"DESCRIPTION:{_escape(description)}")
        if where:
            lines.append(f"LOCATION:{_escape(where)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
