"""Personal data of the delivery model (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import ERASE_DELETE, ERASE_KEEP, Mention, not_personal, register

from . import models as m

not_personal(m.LeadProvider, "Lead providers are organisations.")
not_personal(m.Hub, "A hub's name and its shared contact address, not a person's.")
not_personal(m.Programme, "The national catalogue of NPQs.")

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
