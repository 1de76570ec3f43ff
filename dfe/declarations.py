"""Declarations backed by evidence (decisions.md, 39): when one is earned (rules per lead provider,
as data), the evidence frozen when it is made, and sending it to DfE once: recorded first, sent
with the row locked, read back from DfE after an uncertain result, never sent twice blindly."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from engagement.models import Activity, Attendance, EngagementTally, MentorCheckin
from engagement.tally import DONE
from programmes.models import Participant

from .client import DfeClient, DfeRefused, DfeUnavailable, DfeUncertain, LinkOff, client_for, link_on
from .crypto import TokenKeyMissing
from .models import (
    DECLARATION_TYPES as DECLARATION_TYPE_ORDER,
)
from .models import (
    Declaration,
    DeliveryPartner,
    DfeApplication,
    EarningRule,
    Evidence,
    LeadProviderAccount,
    Schedule,
)

logger = logging.getLogger(__name__)

DEFAULT_RETAINED_THRESHOLD = Decimal("90")
S = Declaration.State
DUPLICATE = "already been submitted"  # DfE's words for a second billable declaration


class DeclarationError(Exception):
    """A declaration the portal will not make; ``str()`` is for staff."""


# --- schedules and rules ------------------------------------------------------------------------


def schedule_of(dfe_app: DfeApplication) -> Schedule | None:
    return (
        Schedule.objects.filter(dfe_cohort=dfe_app.cohort, identifier=dfe_app.schedule_identifier)
        .prefetch_related("milestones")
        .first()
    )


def thresholds(lead_provider_id: int) -> dict[str, Decimal]:
    """The engagement at or above which each retained declaration is earned (the default unless
    the lead provider has set its own)."""
    found = {
        "retained-1": DEFAULT_RETAINED_THRESHOLD,
        "retained-2": DEFAULT_RETAINED_THRESHOLD,
    }
    for rule in EarningRule.objects.filter(lead_provider_id=lead_provider_id):
        found[rule.declaration_type] = rule.engagement_threshold
    return found


# --- evidence -----------------------------------------------------------------------------------


def canonical(content: dict) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content).encode()).hexdigest()


@dataclass
class Gathered:
    met: bool
    content: dict


def _required_activities(participant: Participant):
    return (
        Activity.objects.filter(course_id=participant.course_id, required=True)
        .filter(Q(group__isnull=True) | Q(group_id=participant.group_id))
        .order_by("starts_at", "due_on", "pk")
    )


def _released_outcome(participant: Participant):
    from assessment.models import Outcome

    return (
        Outcome.objects.filter(
            entry__participant=participant, entry__window__results_released_at__isnull=False
        )
        .order_by("-decided_at")
        .first()
    )


def gather_evidence(participant: Participant, declaration_type: str, *, lead_provider_id: int) -> Gathered:
    """What the portal holds for this declaration now, and whether it meets the rule."""
    activities = list(_required_activities(participant))
    marks = {
        m.activity_id: m for m in Attendance.objects.filter(participant=participant, activity__in=activities)
    }
    tally = EngagementTally.objects.filter(participant=participant).first()
    checkins = MentorCheckin.objects.filter(participant=participant, confirmed_at__isnull=False)
    content: dict = {
        "participant": participant.pk,
        "course": participant.course_id,
        "declaration_type": declaration_type,
        "tally": None
        if tally is None
        else {
            "percent": str(tally.percent) if tally.percent is not None else None,
            "done_weight": str(tally.done_weight),
            "due_weight": str(tally.due_weight),
            "awaiting_weight": str(tally.awaiting_weight),
            "computed_at": tally.computed_at.isoformat(),
        },
        "marks": [
            {
                "activity": a.code,
                "title": a.title,
                "on": a.when.isoformat() if a.when else None,
                "status": marks[a.pk].status,
                "recorded_at": marks[a.pk].recorded_at.isoformat(),
                "lms_completed_at": marks[a.pk].completed_at.isoformat()
                if marks[a.pk].completed_at
                else None,
            }
            for a in activities
            if a.pk in marks
        ],
        "checkins": [
            {
                "held_on": c.held_on.isoformat(),
                "mentor": c.mentor_name,
                "confirmed_at": c.confirmed_at.isoformat(),
            }
            for c in checkins
        ],
    }
    if declaration_type == "started":
        first = activities[0] if activities else None
        met = first is not None and first.pk in marks and marks[first.pk].status in DONE
        content["rule"] = "Attended the first required activity" + (f" ({first.title})." if first else ".")
    elif declaration_type in ("retained-1", "retained-2"):
        threshold = thresholds(lead_provider_id)[declaration_type]
        percent = tally.percent if tally is not None else None
        met = percent is not None and percent >= threshold
        content["rule"] = f"Engagement of {threshold}% or more of what was due."
    else:
        outcome = _released_outcome(participant)
        met = outcome is not None
        content["rule"] = "An assessment outcome released."
        content["outcome"] = (
            None
            if outcome is None
            else {"result": outcome.result, "decided_at": outcome.decided_at.isoformat()}
        )
    content["met"] = met
    return Gathered(met=met, content=content)


def freeze_evidence(
    participant: Participant, declaration_type: str, *, lead_provider_id: int, by: User | None, replaces=None
) -> Evidence:
    gathered = gather_evidence(participant, declaration_type, lead_provider_id=lead_provider_id)
    return Evidence.objects.create(
        participant=participant,
        declaration_type=declaration_type,
        content=gathered.content,
        content_hash=content_hash(gathered.content),
        met=gathered.met,
        made_at=timezone.now(),
        made_by=by if by is not None and by.pk else None,
        replaces=replaces,
    )


def evidence_intact(evidence: Evidence) -> bool:
    """The content still hashes to what was recorded when it was frozen."""
    return content_hash(evidence.content) == evidence.content_hash


# --- making a declaration -----------------------------------------------------------------------


def declare(
    participant: Participant,
    declaration_type: str,
    *,
    by: User | None,
    declaration_date: datetime | None = None,
    override_reason: str = "",
    has_passed: bool | None = None,
) -> Declaration:
    """Record a declaration with its frozen evidence (sent after commit). Refused, in words, when
    it is already declared, not in the schedule, dated in the future or before the schedule
    starts, the hub has no delivery partner id, or the evidence does not meet the rule and no
    override reason is given."""
    now = timezone.now()
    when = declaration_date or now
    override_reason = override_reason.strip()
    with transaction.atomic():
        dfe_app = (
            DfeApplication.objects.select_for_update()
            .filter(application__participant=participant)
            .select_related("lead_provider")
            .first()
        )
        if dfe_app is None or dfe_app.status != DfeApplication.Status.ACCEPTED:
            raise DeclarationError("This participant's application is not accepted at DfE yet.")
        if (
            dfe_app.declarations.filter(declaration_type=declaration_type)
            .exclude(state__in=Declaration.SPENT_STATES)
            .exists()
        ):
            raise DeclarationError("This declaration has already been made for this participant.")
        schedule = schedule_of(dfe_app)
        if schedule is None:
            raise DeclarationError(
                f"No schedule {dfe_app.schedule_identifier or '(none)'} is set up for DfE cohort {dfe_app.cohort}."
            )
        if declaration_type not in {m.declaration_type for m in schedule.milestones.all()}:
            raise DeclarationError(
                f"The schedule {schedule.identifier} has no {declaration_type} declaration."
            )
        if when > now:
            raise DeclarationError("The declaration date cannot be in the future.")
        if when.date() < schedule.starts_on:
            raise DeclarationError(
                f"The declaration date cannot be before the schedule starts ({schedule.starts_on:%-d %B %Y})."
            )
        partner = DeliveryPartner.objects.filter(
            hub_id=participant.course.cohort.hub_id, dfe_cohort=dfe_app.cohort
        ).first()
        if partner is None:
            raise DeclarationError(
                f"The hub has no DfE delivery partner id for DfE cohort {dfe_app.cohort}. Add it first."
            )
        if declaration_type == "completed":
            outcome = _released_outcome(participant)
            if has_passed is None and outcome is not None:
                has_passed = outcome.result == "passed"
            if has_passed is None:
                raise DeclarationError(
                    "A completed declaration needs the assessment outcome (passed or failed)."
                )
        else:
            has_passed = None
        evidence = freeze_evidence(
            participant, declaration_type, lead_provider_id=dfe_app.lead_provider_id, by=by
        )
        if not evidence.met and not override_reason:
            raise DeclarationError(
                "The evidence does not meet the rule for this declaration. "
                "Give a reason to declare it anyway (it is recorded with your name)."
            )
        if override_reason and not evidence.met:
            logger.warning(
                "Declaration %s for participant %s made without evidence by %s: %s",
                declaration_type,
                participant.pk,
                by,
                override_reason,
            )
        try:
            with transaction.atomic():
                declaration = Declaration.objects.create(
                    dfe_application=dfe_app,
                    declaration_type=declaration_type,
                    declaration_date=when,
                    has_passed=has_passed,
                    delivery_partner_id=partner.delivery_partner_id,
                    evidence=evidence,
                    override_reason=override_reason if not evidence.met else "",
                    created_at=now,
                    created_by=by if by is not None and by.pk else None,
                )
        except IntegrityError:
            raise DeclarationError("This declaration has already been made for this participant.") from None
        if link_on():
            transaction.on_commit(partial(_queue, declaration.pk))
    return declaration


def _queue(declaration_id: int) -> None:
    try:
        send_declaration(declaration_id)
    except Exception as exc:  # after commit: the decision stands; the sweep sends it
        logger.warning("Declaration %s not settled now (%s); the sweep will send it", declaration_id, exc)


# --- sending ------------------------------------------------------------------------------------


def _attributes(declaration: Declaration) -> dict:
    dfe_app = declaration.dfe_application
    attributes = {
        "participant_id": str(dfe_app.participant_id),
        "declaration_type": declaration.declaration_type,
        "declaration_date": declaration.declaration_date.astimezone(timezone.get_fixed_timezone(0)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "course_identifier": dfe_app.course_identifier,
        "delivery_partner_id": str(declaration.delivery_partner_id),
    }
    if declaration.declaration_type == "completed":
        attributes["has_passed"] = bool(declaration.has_passed)
    return attributes


def _matching_at_dfe(client: DfeClient, declaration: Declaration) -> dict | None:
    """DfE's billable declaration of this type for the participant's course, if it has one."""
    dfe_app = declaration.dfe_application
    for found in client.declarations(participant_id=str(dfe_app.participant_id)):
        a = found["attributes"]
        if (
            a.get("course_identifier") == dfe_app.course_identifier
            and a.get("declaration_type") == declaration.declaration_type
            and a.get("state") not in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
        ):
            return found
    return None


def _keep_answer(declaration: Declaration, answer: dict) -> None:
    a = answer.get("attributes") or {}
    declaration.dfe_id = answer["id"]
    # DfE writes some states with a hyphen (awaiting-clawback) and its description with an underscore.
    declaration.state = (a.get("state") or S.SUBMITTED).replace("-", "_")
    declaration.ineligible_reason = a.get("ineligible_for_funding_reason") or ""
    declaration.error = ""
    declaration.sent_at = timezone.now()


def send_declaration(declaration_id: int, *, client: DfeClient | None = None) -> Declaration | None:
    """Send one recorded declaration, once: the row is locked for the call (another sender skips
    it), a settled one is never sent again, and an uncertain one is looked for at DfE first."""
    failure: Exception | None = None
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dfe_application__lead_provider")
            .filter(pk=declaration_id, state__in=Declaration.OPEN_STATES)
            .first()
        )
        if declaration is None:
            return None
        dfe_app = declaration.dfe_application
        try:
            client = client or client_for(
                LeadProviderAccount.objects.get(lead_provider=dfe_app.lead_provider)
            )
        except (LinkOff, LeadProviderAccount.DoesNotExist, DfeRefused, TokenKeyMissing) as exc:
            declaration.error = (
                f"{dfe_app.lead_provider} has no DfE API account."
                if isinstance(exc, LeadProviderAccount.DoesNotExist)
                else str(exc)
            )
            declaration.save(update_fields=["error"])
            return declaration
        declaration.attempts += 1
        declaration.last_attempt_at = timezone.now()
        fields = ["state", "dfe_id", "ineligible_reason", "error", "sent_at", "attempts", "last_attempt_at"]
        try:
            found = _matching_at_dfe(client, declaration) if declaration.state == S.UNCERTAIN else None
            if found is not None:
                _keep_answer(declaration, found)
            else:
                _keep_answer(declaration, client.declare(_attributes(declaration)))
        except DfeRefused as exc:
            found = None
            if DUPLICATE in str(exc):
                try:
                    found = _matching_at_dfe(client, declaration)
                except (DfeRefused, DfeUnavailable):
                    found = None
            if found is not None and not Declaration.objects.filter(dfe_id=found["id"]).exists():
                _keep_answer(declaration, found)  # DfE has it already (sent before its answer was lost)
            else:
                declaration.state, declaration.error = S.REFUSED, str(exc)
        except DfeUncertain as exc:
            declaration.state = S.UNCERTAIN
            declaration.error = f"{exc} The portal checks with DfE before trying again."
            failure = exc
        except DfeUnavailable as exc:
            declaration.error = str(exc)
            failure = exc
        declaration.save(update_fields=fields)
    if failure is not None:
        raise failure
    return declaration


def send_open_declarations(today: date | None = None) -> int:
    """The sweep: every declaration still waiting (never sent, uncertain, DfE away). How many settled."""
    if not link_on():
        return 0
    settled = 0
    for pk in (
        Declaration.objects.filter(state__in=Declaration.OPEN_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        try:
            declaration = send_declaration(pk)
        except (DfeUncertain, DfeUnavailable):
            continue
        if declaration is not None and declaration.state not in Declaration.OPEN_STATES:
            settled += 1
    for pk in Declaration.objects.filter(outcome_pending=True).order_by("pk").values_list("pk", flat=True):
        declaration = send_outcome(pk)
        if declaration is not None and not declaration.outcome_pending:
            settled += 1
    return settled


def void(
    declaration: Declaration, *, reason: str, by: User | None, client: DfeClient | None = None
) -> Declaration:
    """Void a declaration with a reason: one never sent is simply voided; one DfE holds is voided
    at DfE (a paid one becomes awaiting clawback). Refused, in words, when DfE refuses."""
    reason = reason.strip()
    if not reason:
        raise DeclarationError("Give the reason for voiding the declaration.")
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update()
            .select_related("dfe_application__lead_provider")
            .get(pk=declaration.pk)
        )
        if declaration.state in (S.VOIDED, S.AWAITING_CLAWBACK, S.CLAWED_BACK, S.REFUSED):
            raise DeclarationError("This declaration is already voided or was refused.")
        declaration.void_reason = reason
        declaration.void_requested_at = timezone.now()
        # DfE clears a voided completed declaration's outcome: one not sent yet never goes.
        declaration.outcome_pending = False
        if declaration.dfe_id is None and declaration.state == S.QUEUED:
            declaration.state = S.VOIDED
        else:
            if declaration.dfe_id is None:
                raise DeclarationError("DfE has not answered for this declaration yet; void it once it has.")
            try:
                client = client or client_for(
                    LeadProviderAccount.objects.get(lead_provider=declaration.dfe_application.lead_provider)
                )
                answer = client.void(str(declaration.dfe_id))
            except (DfeRefused, DfeUnavailable, DfeUncertain, LinkOff, TokenKeyMissing) as exc:
                raise DeclarationError(f"DfE did not void it: {exc}") from exc
            declaration.state = ((answer.get("attributes") or {}).get("state") or S.VOIDED).replace("-", "_")
        declaration.save(update_fields=["state", "void_reason", "void_requested_at", "outcome_pending"])
    logger.info("Declaration %s voided by %s: %s", declaration.pk, by, reason)
    return declaration


def declare_outcomes(*, window, by: User | None) -> int:
    """After a window's results are released: a completed declaration (with has_passed) for each
    participant whose schedule allows it and who has none yet, or the outcome on its own when
    completed was declared already. How many were made or queued."""
    from assessment.models import Outcome

    made = 0
    for outcome in Outcome.objects.filter(entry__window=window).select_related(
        "entry__participant__course__cohort"
    ):
        participant = outcome.entry.participant
        passed = outcome.result == "passed"
        with transaction.atomic():
            completed = (
                Declaration.objects.select_for_update()
                .filter(dfe_application__application__participant=participant, declaration_type="completed")
                .exclude(state__in=Declaration.SPENT_STATES)
                .first()
            )
            if completed is not None:
                if completed.has_passed != passed:
                    completed.has_passed = passed
                    # Not sent yet: it goes with the declaration; sent: the outcome goes on its own.
                    completed.outcome_pending = completed.state not in Declaration.OPEN_STATES
                    completed.save(update_fields=["has_passed", "outcome_pending"])
                    if completed.outcome_pending and link_on():
                        transaction.on_commit(partial(_queue_outcome, completed.pk))
                    made += 1
                continue
        try:
            declare(participant, "completed", by=by, has_passed=passed)
        except DeclarationError as exc:
            logger.info("No completed declaration for participant %s: %s", participant.pk, exc)
            continue
        made += 1
    return made


def _queue_outcome(declaration_id: int) -> None:
    try:
        send_outcome(declaration_id)
    except Exception as exc:  # after commit: the sweep sends it
        logger.warning(
            "Outcome of declaration %s not sent now (%s); the sweep will send it", declaration_id, exc
        )


def send_outcome(declaration_id: int, *, client: DfeClient | None = None) -> Declaration | None:
    """Send a completed declaration's outcome on its own (the row locked; an outcome sent twice
    is harmless at DfE: the latest stands)."""
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dfe_application__lead_provider")
            .filter(pk=declaration_id, outcome_pending=True)
            .first()
        )
        if declaration is None:
            return None
        dfe_app = declaration.dfe_application
        try:
            client = client or client_for(
                LeadProviderAccount.objects.get(lead_provider=dfe_app.lead_provider)
            )
            client.outcome(
                str(dfe_app.participant_id),
                course_identifier=dfe_app.course_identifier,
                passed=bool(declaration.has_passed),
                completion_date=timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        except DfeRefused as exc:
            declaration.error = f"DfE refused the outcome: {exc}"
            declaration.outcome_pending = False
        except (
            DfeUnavailable,
            DfeUncertain,
            LinkOff,
            TokenKeyMissing,
            LeadProviderAccount.DoesNotExist,
        ) as exc:
            declaration.error = f"The outcome is not sent yet: {exc}"
        else:
            declaration.error = ""
            declaration.outcome_pending = False
        declaration.save(update_fields=["error", "outcome_pending"])
    return declaration


def due_on(schedule: Schedule, declaration_type: str) -> date | None:
    for milestone in schedule.milestones.all():
        if milestone.declaration_type == declaration_type:
            return milestone.milestone_date
    return None


# --- where a cohort's declarations stand (the staff page) ---------------------------------------

TYPE_WORDS = dict(Declaration._meta.get_field("declaration_type").choices)
AT_RISK_DAYS = 42  # six weeks before a milestone, a participant short of the rule is at risk


@dataclass
class Standing:
    """One participant and one declaration type: what the portal holds and what to do."""

    participant: Participant
    dfe_application: DfeApplication
    declaration_type: str
    milestone_date: date | None
    met: bool
    engagement: Decimal | None
    declaration: Declaration | None

    @property
    def type_words(self) -> str:
        return TYPE_WORDS.get(self.declaration_type, self.declaration_type)

    @property
    def state(self) -> str:
        """ready, at_risk, missed, not_yet, declared"""
        if self.declaration is not None and self.declaration.state not in Declaration.SPENT_STATES:
            return "declared"
        if self.met:
            return "ready"
        if self.milestone_date is None:
            return "not_yet"
        today = timezone.localdate()
        if self.milestone_date < today:
            return "missed"
        if (self.milestone_date - today).days <= AT_RISK_DAYS:
            return "at_risk"
        return "not_yet"

    @property
    def words(self) -> str:
        if self.state == "declared":
            return f"Declared: {self.declaration.get_state_display().lower()}"
        return {
            "ready": "Ready to declare",
            "at_risk": "At risk before the milestone",
            "missed": "Milestone passed without the evidence",
            "not_yet": "Not earned yet",
        }[self.state]


def cohort_standing(
    *, course_ids: list[int], lead_provider_id: int, unscheduled: list | None = None
) -> list[Standing]:
    """Every accepted participant of these courses, per declaration type their schedule allows:
    the evidence met or not, the milestone, the declaration made. A fixed number of queries."""
    from assessment.models import Outcome

    dfe_apps = {
        a.application.participant_id: a
        for a in DfeApplication.objects.filter(
            application__participant__course_id__in=course_ids, status=DfeApplication.Status.ACCEPTED
        ).select_related("application")
        if a.application.participant_id
    }
    participants = list(
        Participant.objects.filter(pk__in=dfe_apps)
        .select_related("user", "course", "tally")
        .order_by("user__email")
    )
    schedules = {
        (s.dfe_cohort, s.identifier): s
        for s in Schedule.objects.filter(
            dfe_cohort__in={a.cohort for a in dfe_apps.values()},
            identifier__in={a.schedule_identifier for a in dfe_apps.values()},
        ).prefetch_related("milestones")
    }
    # started: the first required activity of each course (the course's, or the participant's group's)
    activities = list(
        Activity.objects.filter(course_id__in=course_ids, required=True).order_by("starts_at", "due_on", "pk")
    )
    done_marks = set(
        Attendance.objects.filter(
            participant__in=participants, activity__in=activities, status__in=DONE
        ).values_list("participant_id", "activity_id")
    )
    released = set(
        Outcome.objects.filter(
            entry__participant__in=participants, entry__window__results_released_at__isnull=False
        ).values_list("entry__participant_id", flat=True)
    )
    declarations: dict[tuple[int, str], Declaration] = {}
    for d in Declaration.objects.filter(dfe_application__in=dfe_apps.values()).order_by("created_at", "pk"):
        declarations[(d.dfe_application_id, d.declaration_type)] = d  # the latest of each type
    limits = thresholds(lead_provider_id)
    rows: list[Standing] = []
    for p in participants:
        dfe_app = dfe_apps[p.pk]
        schedule = schedules.get((dfe_app.cohort, dfe_app.schedule_identifier))
        if schedule is None:
            if unscheduled is not None:  # told on the page: staff add the schedule in admin
                unscheduled.append((p, dfe_app))
            continue
        tally = getattr(p, "tally", None)
        percent = tally.percent if tally is not None else None
        first = next(
            (a for a in activities if a.course_id == p.course_id and a.group_id in (None, p.group_id)), None
        )
        for milestone in schedule.milestones.all():
            kind = milestone.declaration_type
            if kind == "started":
                met = first is not None and (p.pk, first.pk) in done_marks
            elif kind == "completed":
                met = p.pk in released
            else:
                met = percent is not None and percent >= limits[kind]
            rows.append(
                Standing(
                    participant=p,
                    dfe_application=dfe_app,
                    declaration_type=kind,
                    milestone_date=milestone.milestone_date,
                    met=met,
                    engagement=percent,
                    declaration=declarations.get((dfe_app.pk, kind)),
                )
            )
    return rows


# --- the chart: declarations by type and state against the milestones, and the money at stake ---

CHART_STATES = (
    ("declared", "Declared"),
    ("ready", "Ready to declare"),
    ("at_risk", "At risk"),
    ("missed", "Milestone passed without evidence"),
    ("not_yet", "Not earned yet"),
)
PAID_OR_PAYABLE = ("eligible", "payable", "paid")  # submitted: DfE does not fund it


@dataclass
class ChartRow:
    declaration_type: str
    milestone_date: date | None
    counts: dict[str, int]
    declared_money: Decimal | None
    at_stake_money: Decimal | None  # ready, at risk or not yet earned: what declaring would bring

    @property
    def type_words(self) -> str:
        return TYPE_WORDS.get(self.declaration_type, self.declaration_type)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def bars(self, width: int = 300) -> list[tuple[str, str, int, int]]:
        """(state, words, x, width) of each segment of the bar, in pixels."""
        total = self.total or 1
        x, out = 0, []
        for key, words in CHART_STATES:
            w = round(width * self.counts.get(key, 0) / total)
            if w:
                out.append((key, words, x, w))
                x += w
        return out


def cohort_chart(rows: list[Standing]) -> list[ChartRow]:
    """Per declaration type: how many stand where, the milestone, the money declared (DfE's
    price x output share, data) and the money still to earn. Money is None without prices."""
    from .models import OutputPrice

    prices = {
        (p.dfe_cohort, p.course_identifier, p.declaration_type): p.amount
        for p in OutputPrice.objects.filter(dfe_cohort__in={r.dfe_application.cohort for r in rows})
    }
    chart: dict[str, ChartRow] = {}
    for row in rows:
        entry = chart.setdefault(
            row.declaration_type,
            ChartRow(row.declaration_type, row.milestone_date, {k: 0 for k, _ in CHART_STATES}, None, None),
        )
        entry.counts[row.state] += 1
        price = prices.get(
            (row.dfe_application.cohort, row.dfe_application.course_identifier, row.declaration_type)
        )
        if price is None:
            continue
        if row.state == "declared" and row.declaration.state in PAID_OR_PAYABLE:
            entry.declared_money = (entry.declared_money or Decimal(0)) + price
        elif row.state in ("ready", "at_risk", "not_yet"):
            entry.at_stake_money = (entry.at_stake_money or Decimal(0)) + price
    order = [t for t, _ in DECLARATION_TYPE_ORDER]
    return sorted(chart.values(), key=lambda c: order.index(c.declaration_type))
