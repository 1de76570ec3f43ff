"""Declarations backed by evidence (decisions.md, 39): when one is earned (rules per lead provider,
as data), the evidence frozen when it is made, and sending it to DfE once: recorded first, sent
with the row locked, read back from DfE after an uncertain result, never sent twice blindly."""

from .cohort import (
    AT_RISK_DAYS,
    CHART_STATES,
    PAID_OR_PAYABLE,
    TYPE_WORDS,
    ChartRow,
    Standing,
    cohort_chart,
    cohort_standing,
)
from .declaring import DeclarationError, declare, declare_outcomes, void
from .evidence import (
    DEFAULT_RETAINED_THRESHOLD,
    Gathered,
    canonical,
    content_hash,
    due_on,
    evidence_intact,
    freeze_evidence,
    gather_evidence,
    schedule_of,
    thresholds,
)
from .sending import DUPLICATE, send_declaration, send_open_declarations, send_outcome

__all__ = [
    "AT_RISK_DAYS",
    "CHART_STATES",
    "DEFAULT_RETAINED_THRESHOLD",
    "DUPLICATE",
    "PAID_OR_PAYABLE",
    "TYPE_WORDS",
    "ChartRow",
    "DeclarationError",
    "Gathered",
    "Standing",
    "canonical",
    "cohort_chart",
    "cohort_standing",
    "content_hash",
    "declare",
    "declare_outcomes",
    "due_on",
    "evidence_intact",
    "freeze_evidence",
    "gather_evidence",
    "schedule_of",
    "send_declaration",
    "send_open_declarations",
    "send_outcome",
    "thresholds",
    "void",
]
