"""Personal data of the delivery model (privacy/registry.py)."""

from django.db.models import Q

from privacy.registry import ERASE_DELETE, ERASE_KEEP, Mention, not_personal, register

from . import models as m

not_personal(m.LeadProvider, "Lead providers are organisations.")
not_personal(m.Hub, "A hub's name and its shared contact address, not a person's.")
not_personal(m.Programme, "The national catalogue of NPQs.")
not_personal(m.Activity, "Sessions and tasks of a course.")

register(
    m.HubMembership,
    "Hub staff roles",
    hub_path="hub",
    subject=lambda user: Q(user=user),
    erase=ERASE_DELETE,
)
register(
    m.Group,
    "Groups facilitated",
    actors=("facilitators",),
    not_personal={"name": "A group's name.", "venue": "Where a group meets."},
    export=lambda row: {"id": row.pk, "name": row.name, "course": str(row.course)},
)
register(
    m.Participant,
    "Enrolments",
    hub_path="course__cohort__hub",
    subject=lambda user: Q(user=user),
    fields=("trn", "mentor_name", "mentor_email"),
    mentions=(Mention(lambda user: Q(mentor_email__iexact=user.email), ("mentor_name", "mentor_email")),),
    keep="Enrolments stay (course, group, status and dates) for the hub's and DfE's counts, "
    "without the teacher reference number or mentor.",
)
register(
    m.Participant.history.model,
    "Enrolment history",
    hub_path="course__cohort__hub",
    subject=lambda user: Q(user=user),
    fields=("trn", "mentor_name", "mentor_email"),
    mentions=(Mention(lambda user: Q(mentor_email__iexact=user.email), ("mentor_name", "mentor_email")),),
    actors=("history_user",),
)
register(
    m.FreedPlace,
    "Places freed by a withdrawal",
    hub_path="course__cohort__hub",
    subject=lambda user: Q(participant__user=user),
    erase=ERASE_KEEP,
    keep="A freed place stays (the waiting list's record), pointing at the anonymised enrolment.",
)
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
