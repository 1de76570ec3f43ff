"""DfE's words the fake answers with: the reasons it takes for a withdrawal or deferral, the
schedules each course may follow, its timestamps, and a refusal (an error answer) with its errors."""

from __future__ import annotations

from datetime import UTC, datetime

from ..timestamps import dfe_time

WITHDRAWAL_REASONS = (
    "insufficient-capacity-to-undertake-programme",
    "personal-reason-health-or-pregnancy-related",
    "personal-reason-moving-school",
    "personal-reason-other",
    "insufficient-capacity",
    "change-in-developmental-or-personal-priorities",
    "change-in-school-circumstances",
    "change-in-school-leadership",
    "quality-of-programme-structure-not-suitable.",
    "quality-of-programme-content-not-suitable",
    "quality-of-programme-facilitation-not-effective",
    "quality-of-programme-accessibility",
    "quality-of-programme-other",
    "programme-not-appropriate-for-role-and-cpd-needs",
    "started-in-error",
    "expected-commitment-unclear",
    "assessment-requirements-not-met",
    "change-in-career",
    "disengaged-and-unresponsive",
    "non-payment-of-invoice",
    "other",
)
DEFERRAL_REASONS = ("bereavement", "long-term-sickness", "parental-leave", "career-break", "other")
LEADERSHIP = {
    "npq-senior-leadership",
    "npq-headship",
    "npq-executive-leadership",
    "npq-early-years-leadership",
    "npq-senco",
}


def _now() -> str:
    return dfe_time(datetime.now(UTC), microseconds=True)


def _schedules_for(course: str) -> tuple[str, ...]:
    if course == "npq-early-headship-coaching-offer":
        return tuple(f"npq-ehco-{m}" for m in ("march", "june", "november", "december"))
    kind = "leadership" if course in LEADERSHIP else "specialist"
    return (f"npq-{kind}-autumn", f"npq-{kind}-spring")


class Refusal(Exception):
    def __init__(self, status: int, errors: list[tuple[str, str]]) -> None:
        self.status, self.errors = status, errors


def _not_found() -> Refusal:
    return Refusal(404, [("Not found", "Resource not found")])
