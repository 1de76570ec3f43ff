"""Personal data of funding (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import not_personal, register

from . import models as m

not_personal(m.FundingRound, "DfE's funding rules.")
not_personal(m.Institution, "Establishments from GIAS.")
not_personal(m.EarlyYearsProvider, "Early years settings on Ofsted's register.")
not_personal(m.IttProvider, "Initial teacher training providers.")

FUNDING_KEPT = (
    "Funding decisions stay (course, round, funded or not, reason, amount, when): DfE requires "
    "funding records. The facts they were made from keep only what is not about the person."
)

register(
    m.FundingRound.history.model,
    "Funding round changes",
    actors=("history_user",),
    not_personal={"name": "A funding round's name."},
)
register(m.EligibilityListChange, "Eligibility list replacements", actors=("replaced_by",))
register(
    m.ImportRun,
    "Import runs",
    actors=("started_by", "confirmed_by"),
    not_personal={
        "file": "GIAS and DfE eligibility lists: establishments, not people.",
        "message": "What the import did, in words.",
    },
)
register(
    m.FundingDecision,
    "Funding decisions",
    hub_path="course__cohort__hub",
    subject=lambda user: Q(user=user),
    fields=("facts", "override_reason"),
    actors=("overridden_by",),
    keep=FUNDING_KEPT,
)
register(
    m.FundingDecision.history.model,
    "Funding decision history",
    hub_path="course__cohort__hub",
    subject=lambda user: Q(user=user),
    fields=("facts", "override_reason"),
    actors=("overridden_by", "history_user"),
    keep=FUNDING_KEPT,
)
register(
    m.FundingReview,
    "Funding reviews",
    hub_path="decision__course__cohort__hub",
    subject=lambda user: Q(decision__user=user),
    fields=("notes",),
    keep="The review's status stays with the decision, without notes.",
)
register(
    m.FundingReview.history.model,
    "Funding review history",
    hub_path="decision__course__cohort__hub",
    subject=lambda user: Q(decision__user=user),
    fields=("notes",),
    actors=("history_user",),
)
register(
    m.FundingReviewUpdate,
    "Funding review steps",
    hub_path="review__decision__course__cohort__hub",
    subject=lambda user: Q(review__decision__user=user),
    fields=("note",),
    actors=("by",),
    keep="Review steps stay (status from and to, when) without notes.",
)
