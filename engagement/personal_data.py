"""Personal data of engagement records (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import ERASE_DELETE, ERASE_KEEP, Mention, not_personal, register

from . import models as m

not_personal(m.Activity, "Sessions and tasks of a course.")

register(
    m.Attendance,
    "Engagement marks",
    hub_path="activity__course__cohort__hub",
    subject=lambda user: Q(participant__user=user),
    erase=ERASE_KEEP,
    actors=("recorded_by",),
    keep="Marks stay, on the anonymised enrolment, so that the course's engagement counts hold.",
    export=lambda row: {
        "activity": row.activity.title,
        "status": row.get_status_display(),
        "recorded_at": row.recorded_at.isoformat(),
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
    },
)
register(
    m.Attendance.history.model,
    "Engagement mark history",
    hub_path="activity__course__cohort__hub",
    subject=lambda user: Q(participant__user=user),
    erase=ERASE_KEEP,
    actors=("recorded_by", "history_user"),
)
register(m.Register, "Registers taken", actors=("taken_by",))
register(
    m.CalendarFeed,
    "Calendar address",
    subject=lambda user: Q(user=user),
    erase=ERASE_DELETE,
    # Whether a feed exists, never its secret address.
    export=lambda row: {"has_calendar_address": True, "created_at": row.created_at.isoformat()},
)
register(
    m.EngagementTally,
    "Engagement",
    hub_path="participant__course__cohort__hub",
    subject=lambda user: Q(participant__user=user),
    erase=ERASE_KEEP,
    keep="The engagement figure stays with the anonymised enrolment for the course's counts.",
)
register(
    m.MentorCheckin,
    "Mentor check-ins",
    hub_path="participant__course__cohort__hub",
    subject=lambda user: Q(participant__user=user),
    fields=("notes", "mentor_name", "mentor_email"),
    mentions=(Mention(lambda user: Q(mentor_email__iexact=user.email), ("mentor_name", "mentor_email")),),
    keep="Check-ins stay (date, confirmed) without notes or the mentor's name, for the counts.",
)
