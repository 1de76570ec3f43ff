"""Signals other apps may listen to without programmes depending on them."""

from django.dispatch import Signal

# Sent (after commit) when a participant's withdrawal frees a place on a course: course_id=...
place_freed = Signal()
