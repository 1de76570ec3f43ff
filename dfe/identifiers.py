"""DfE's identifiers for the portal's programmes, cohorts and schedules (lead provider API v3)."""

from __future__ import annotations

from programmes.models import Cohort, Programme

# DfE's course_identifier of each programme in the catalogue (fixed by DfE, keyed by our code).
COURSE_IDENTIFIERS: dict[str, str] = {
    "NPQLT": "npq-leading-teaching",
    "NPQLBC": "npq-leading-behaviour-culture",
    "NPQLTD": "npq-leading-teaching-development",
    "NPQLL": "npq-leading-literacy",
    "NPQLPM": "npq-leading-primary-mathematics",
    "NPQSL": "npq-senior-leadership",
    "NPQH": "npq-headship",
    "NPQEL": "npq-executive-leadership",
    "NPQEYL": "npq-early-years-leadership",
    "NPQSENCO": "npq-senco",
    "EHCO": "npq-early-headship-coaching-offer",
}
PROGRAMME_CODES = {identifier: code for code, identifier in COURSE_IDENTIFIERS.items()}

SCHEDULE_IDENTIFIERS = (
    "npq-specialist-autumn",
    "npq-specialist-spring",
    "npq-leadership-autumn",
    "npq-leadership-spring",
    "npq-ehco-march",
    "npq-ehco-june",
    "npq-ehco-november",
    "npq-ehco-december",
)


def course_identifier(programme: Programme) -> str:
    return COURSE_IDENTIFIERS[programme.code]


def dfe_cohort(cohort: Cohort) -> tuple[str, str]:
    """(start year, suffix): as set for the cohort, else the academic year it starts in (a spring
    start belongs to the previous autumn's year: DfE's cohort 2025 runs 2025/26)."""
    from .models import DfeCohort

    try:
        linked = cohort.dfe
    except DfeCohort.DoesNotExist:
        linked = None
    if linked is not None:
        return str(linked.start_year), linked.suffix
    start = cohort.start_date
    return str(start.year if start.month >= 9 else start.year - 1), "a"


def schedule_identifier(programme: Programme, cohort: Cohort) -> str:
    """The schedule DfE expects for the programme starting when the cohort starts."""
    start = cohort.start_date
    if programme.code == "EHCO":
        month = start.month
        # EHCO starts in March, June, November or December: the schedule of the next of those.
        for last_month, name in ((3, "march"), (6, "june"), (11, "november"), (12, "december")):
            if month <= last_month:
                return f"npq-ehco-{name}"
    season = "autumn" if start.month >= 9 else "spring"
    kind = "specialist" if programme.kind == Programme.Kind.SPECIALIST else "leadership"
    return f"npq-{kind}-{season}"


LEADERSHIP_COURSES = {
    "npq-senior-leadership",
    "npq-headship",
    "npq-executive-leadership",
    "npq-early-years-leadership",
    "npq-senco",
}


def schedules_for(course_identifier: str) -> tuple[str, ...]:
    """The schedules DfE accepts for a course."""
    if course_identifier == "npq-early-headship-coaching-offer":
        return tuple(s for s in SCHEDULE_IDENTIFIERS if s.startswith("npq-ehco-"))
    kind = "leadership" if course_identifier in LEADERSHIP_COURSES else "specialist"
    return (f"npq-{kind}-autumn", f"npq-{kind}-spring")
