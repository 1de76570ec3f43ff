"""The assurance pack of a cohort: its declarations as rows in DfE's assurance-report columns,
each traced to the evidence it was made with (a CSV, through common/csv_export.py)."""

from __future__ import annotations

from programmes.models import Cohort

from ..models import Declaration
from ..timestamps import dfe_time

ASSURANCE_COLUMNS = (
    "Participant ID",
    "Participant Name",
    "TRN",
    "Course Identifier",
    "Schedule",
    "Eligible For Funding",
    "Funded place",
    "Lead Provider Name",
    "School Urn",
    "School Name",
    "Training Status",
    "Training Status Reason",
    "Declaration ID",
    "Declaration Status",
    "Declaration Type",
    "Declaration Date",
    "Declaration Created At",
    "Statement Name",
    "Statement ID",
    "Evidence Hash",
    "Evidence Met The Rule",
    "Declared Without Evidence Because",
)


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _training_status_reason(dfe_app) -> str:
    """DfE's reason for a withdrawal or deferral: the one the portal sent with the change."""
    participant = dfe_app.application.participant if dfe_app.application_id else None
    if participant is None or dfe_app.training_status not in ("withdrawn", "deferred"):
        return ""
    return participant.status_reason if participant.status == dfe_app.training_status else ""


def assurance_rows(cohort: Cohort) -> list[tuple]:
    """One row per declaration of the cohort's participants, in ASSURANCE_COLUMNS order."""
    declarations = (
        Declaration.objects.filter(dfe_application__application__course__cohort=cohort)
        .select_related(
            "dfe_application__lead_provider", "dfe_application__application__participant", "evidence"
        )
        .order_by("dfe_application__full_name", "declaration_type", "created_at")
    )
    rows = []
    for d in declarations:
        a = d.dfe_application
        rows.append(
            (
                str(a.participant_id),
                a.full_name,
                a.trn,
                a.course_identifier,
                a.schedule_identifier,
                yes_no(a.eligible_for_funding),
                yes_no(a.funded_place),
                a.lead_provider.name,
                a.attributes.get("school_urn") or "",
                a.attributes.get("employer_name") or "",
                a.training_status,
                _training_status_reason(a),
                str(d.dfe_id or ""),
                d.state,
                d.declaration_type,
                dfe_time(d.declaration_date),
                dfe_time(d.created_at),
                "",
                "",
                d.evidence.content_hash if d.evidence_id else "",
                yes_no(d.evidence.met) if d.evidence_id else "",
                d.override_reason,
            )
        )
    return rows
