"""Personal data of applications and endorsements (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import Mention, register

from .models import Application, Employment, Endorsement, FundedPlaceChange, Transition

register(
    Application,
    "Applications",
    hub_path="cohort__hub",
    subject=lambda user: Q(user=user),
    fields=(
        "answers",
        "trn",
        "full_name",
        "date_of_birth",
        "endorser_name",
        "endorser_email",
        "decision_reason",
    ),
    mentions=(
        Mention(lambda user: Q(endorser_email__iexact=user.email), ("endorser_name", "endorser_email")),
    ),
    not_personal={"workplace_name": "The school's or setting's name, kept for the hub's counts."},
    keep="Applications stay (cohort, course, status, dates, how it is paid for) for the hub's and "
    "DfE's counts, without name, date of birth, teacher reference number, endorser or answers "
    "that identify the person.",
)
register(
    Transition,
    "Application history",
    hub_path="application__cohort__hub",
    subject=lambda user: Q(application__user=user),
    fields=("note",),
    actors=("by",),
    keep="Status changes stay (from, to, when) without notes.",
)
register(
    Endorsement,
    "Endorsements asked for, and given",
    hub_path="application__cohort__hub",
    subject=lambda user: Q(application__user=user),
    fields=("endorser_name", "endorser_email", "endorser_domain", "reason"),
    mentions=(
        Mention(
            lambda user: Q(endorser_email__iexact=user.email),
            ("endorser_name", "endorser_email", "endorser_domain", "reason"),
        ),
    ),
    actors=("decided_by", "domain_confirmed_by", "replaced_by"),
    keep="Endorsement decisions stay (endorsed or declined, when) without the endorser or reasons.",
)
register(
    Employment,
    "Employment",
    hub_path="application__cohort__hub",
    subject=lambda user: Q(application__user=user),
    fields=("role", "headteacher_name", "headteacher_email"),
    mentions=(
        Mention(
            lambda user: Q(headteacher_email__iexact=user.email), ("headteacher_name", "headteacher_email")
        ),
    ),
    not_personal={"workplace_name": "The school's or setting's name, kept for the hub's counts."},
)
register(
    FundedPlaceChange,
    "Funded place changes",
    hub_path="application__cohort__hub",
    subject=lambda user: Q(application__user=user),
    fields=("reason",),
    actors=("by",),
    keep="Funded place changes stay (before, after, when) without the reason: DfE's funding record.",
)
