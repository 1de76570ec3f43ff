"""The portal's side of DfE's lead provider API (v3): who is who at DfE, what DfE holds, and every
write to DfE recorded as an intent before it is sent (decisions.md, 38)."""

from .declarations import (
    DECLARATION_TYPES,
    Declaration,
    EarningRule,
    Evidence,
    Milestone,
    OutputPrice,
    Schedule,
)
from .link import (
    DeliveryPartner,
    DfeApplication,
    DfeCohort,
    DfeWrite,
    LeadProviderAccount,
    LeadProviderStaff,
    SyncRun,
)

__all__ = [
    "DECLARATION_TYPES",
    "Declaration",
    "DeliveryPartner",
    "DfeApplication",
    "DfeCohort",
    "DfeWrite",
    "EarningRule",
    "Evidence",
    "LeadProviderAccount",
    "LeadProviderStaff",
    "Milestone",
    "OutputPrice",
    "Schedule",
    "SyncRun",
]
