"""Personal data of the link to DfE (common/personal_data.py)."""

from django.db.models import Q

from common.personal_data import ERASE_DELETE, ERASE_KEEP, register

from .models import Declaration, DfeApplication, DfeWrite, Evidence, LeadProviderStaff

register(
    DfeApplication,
    "Applications read from DfE's register",
    # The teacher's own, linked or (not yet linked) by the address DfE holds for them.
    subject=lambda user: Q(application__user=user) | Q(email__iexact=user.email),
    fields=("full_name", "email", "trn", "attributes"),
    keep="DfE's identifiers, NPQ, cohort and statuses stay (DfE holds the record and pays on it), "
    "without the portal's copy of the name, email, teacher reference number or DfE's details.",
)
register(
    DfeWrite,
    "Changes sent to DfE",
    subject=lambda user: Q(dfe_application__application__user=user),
    actors=("created_by",),
    keep="What was sent to DfE and when stays (DfE's record of the decision, with DfE's reason codes).",
)
register(
    LeadProviderStaff,
    "Lead provider staff roles",
    subject=lambda user: Q(user=user),
    erase=ERASE_DELETE,
)
register(
    Evidence,
    "Evidence behind declarations to DfE",
    subject=lambda user: Q(participant__user=user),
    actors=("made_by",),
    erase=ERASE_KEEP,
    keep="Frozen and hashed when the declaration was made: DfE paid on it and audits the lead "
    "provider against it (assurance), so it stays unchanged; the account itself is anonymised.",
    hub_path="participant__course__cohort__hub",
)
register(
    Declaration,
    "Declarations sent to DfE",
    subject=lambda user: Q(dfe_application__application__user=user),
    actors=("created_by",),
    erase=ERASE_KEEP,
    keep="What was declared to DfE and DfE's answer stay (DfE holds the declaration and paid on it).",
    not_personal={
        "override_reason": "Staff's reason for declaring without evidence (audit), about the evidence.",
        "void_reason": "Staff's reason for voiding, about the declaration.",
    },
    hub_path="dfe_application__application__course__cohort__hub",
)
