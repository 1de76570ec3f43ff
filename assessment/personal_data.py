"""Personal data of assessment (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import ERASE_DELETE, register

from . import models as m

register(
    m.AssessmentWindow,
    "Assessment windows",
    not_personal={
        "case_study_file": "The case study set for the course, not a person's work.",
        "case_study_text": "The case study set for the course, not a person's work.",
    },
)
register(
    m.Entry,
    "Assessment entries",
    hub_path="window__course__cohort__hub",
    subject=lambda user: Q(participant__user=user),
    fields=("access_reason", "extension_reason"),
    # Access granted by staff must keep a reason (a constraint): it says only that it was erased.
    replacements={"access_reason": lambda row: "Erased" if row.access_reason else ""},
    actors=("access_granted_by",),
    keep="Entries stay (access, extension dates) without the reasons given.",
)
register(
    m.Submission,
    "Assessment responses",
    hub_path="entry__window__course__cohort__hub",
    subject=lambda user: Q(entry__participant__user=user),
    fields=("text", "file", "original_name"),
    erase=ERASE_DELETE,
)
register(
    m.MarkingAssignment,
    "Marking",
    hub_path="entry__window__course__cohort__hub",
    subject=lambda user: Q(entry__participant__user=user),
    fields=("feedback",),
    actors=("marker",),
    keep="Marks stay (role, pass or fail, when) without feedback.",
)
register(
    m.Outcome,
    "Assessment outcomes",
    hub_path="entry__window__course__cohort__hub",
    subject=lambda user: Q(entry__participant__user=user),
    fields=("feedback",),
    keep="The outcome (passed or failed, when) stays: DfE records completions.",
)
