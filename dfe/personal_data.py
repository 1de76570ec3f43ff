"""Personal data of the link to DfE (privacy/registry.py)."""

from django.db.models import Q

from privacy.registry import ERASE_DELETE, register

from .models import DfeApplication, DfeWrite, LeadProviderStaff

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
