"""Application lifecycle: every status change goes through ``transition`` and is recorded."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import User
from funding.services import funding_decision_assess
from programmes.models import Cohort, Course, FreedPlace, Group, Participant
from programmes.services import EnrolmentError, participant_enrol

from . import emails
from .endorsement_checks import domain_concern, email_domain
from .funded_places import FundedPlaceError, funded_place_on_accept, funded_place_record, funded_places_used
from .models import Application, Employment, Endorsement, Transition
from .selectors import place_held, status_phrase

S = Application.Status

# from -> the statuses it may move to. Anything else is refused.
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN, S.REGISTRATION_EXPIRED},
    S.SUBMITTED: {S.AWAITING_ENDORSEMENT, S.WITHDRAWN},
    # Not endorsed while the link worked (ENDORSEMENT_LINK_DAYS): the application expires.
    S.AWAITING_ENDORSEMENT: {S.ENDORSED, S.ENDORSEMENT_DECLINED, S.WITHDRAWN, S.REGISTRATION_EXPIRED},
    # Staff may ask for the endorsement again (a corrected address) before deciding.
    S.ENDORSED: {S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN, S.AWAITING_ENDORSEMENT},
    S.WAITLISTED: {S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
    S.ENDORSEMENT_DECLINED: set(),
    S.ACCEPTED: set(),
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.REGISTRATION_EXPIRED: set(),
}


class ApplicationError(ValueError):
    """A change the rules refuse; the message is shown to the person who asked for it."""


class EndorsementLinkError(ApplicationError):
    pass


class OutOfTurnReasonNeeded(ApplicationError):
    """Someone is ahead on the waiting list: accepting this one needs a reason (decision 30)."""


class PlaceAlreadyHeld(ApplicationError):
    """The applicant already has a place on this NPQ in this intake (a live enrolment)."""

    def __init__(self, participant: Participant):
        course = participant.course
        super().__init__(
            f"You already have a place on {course.programme.name} starting "
            f"{course.delivery_start:%B %Y} with {course.cohort.hub}, so you cannot apply for it again."
        )
        self.participant = participant


REPLACED_LINK = "This link has been replaced: the hub asked for the endorsement again, in a newer email."


def transition(
    application: Application, to: str, *, by: User | None, note: str = "", at: datetime | None = None
) -> Application:
    """Move ``application`` to ``to`` if the state machine allows it, recording who and when."""
    if to not in TRANSITIONS[application.status]:
        raise ApplicationError(
            f"An application that {status_phrase(application.status)} cannot become "
            f"“{Application.Status(to).label}”."
        )
    at = at or timezone.now()
    Transition.objects.create(
        application=application, from_status=application.status, to_status=to, by=by, at=at, note=note
    )
    application.status = to
    application.save(
        update_fields=["status", "waitlist_position", "decision_reason", "participant", "submitted_at"]
    )
    return application


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("course__programme", "cohort", "user")
        .get(pk=application.pk)
    )


# --- Drafts -------------------------------------------------------------------------------------


def registration_deadline(application: Application) -> datetime:
    return application.started_at + timedelta(days=settings.APPLICATION_COMPLETION_DAYS)


@transaction.atomic
def application_start(*, user: User, cohort: Cohort) -> Application:
    """Start (or return the open draft of) an application to ``cohort``."""
    if not cohort.is_open_for_registration(timezone.localdate()):
        raise ApplicationError(f"Registration for {cohort.identifier} is not open.")
    draft = Application.objects.filter(user=user, cohort=cohort, status=S.DRAFT).first()
    if draft:
        return draft
    try:
        with transaction.atomic():
            return Application.objects.create(user=user, cohort=cohort, started_at=timezone.now())
    except IntegrityError:  # the same person's other click made it a moment ago
        return Application.objects.get(user=user, cohort=cohort, status=S.DRAFT)


@transaction.atomic
def application_save_answers(
    *, application: Application, values: dict[str, Any], drop: tuple[str, ...] = ()
) -> Application:
    """Save a page of answers to a draft (and forget answers that no longer apply)."""
    application = _locked(application)
    if application.status != S.DRAFT:
        raise ApplicationError("This application has been submitted and can no longer be changed.")
    answers = {k: v for k, v in application.answers.items() if k not in drop}
    answers.update(values)
    application.answers = answers
    if "course" in values:
        application.course = Course.objects.get(pk=values["course"], cohort=application.cohort)
    application.save(update_fields=["answers", "course"])
    return application


REQUIRED_ANSWERS = (
    "course",
    "in_england",
    "work_setting",
    "role",
    "trn",
    "full_name",
    "date_of_birth",
    "endorser_name",
    "endorser_email",
    "mentor_name",
    "mentor_email",
    "support_requested",
    "consent",
)


@transaction.atomic
def application_submit(*, application: Application, by: User) -> Application:
    """Submit a complete draft: decide funding, then ask the endorser by email."""
    application = _locked(application)
    answers = application.answers
    if any(name not in answers for name in REQUIRED_ANSWERS):
        raise ApplicationError("Answer every question before submitting.")
    if (held := place_held(user=application.user, course=application.course)) is not None:
        # An accepted (or directly enrolled) NPQ is not applied for twice: no second endorsement.
        raise PlaceAlreadyHeld(held)
    if answers.get("consent") is not True:
        raise ApplicationError("Confirm that you agree to share your information before submitting.")
    if timezone.now() > registration_deadline(application):
        raise ApplicationError("The time to complete this application has passed.")
    from funding.checker import facts_from_answers  # the same facts as the public checker

    facts = facts_from_answers(
        {**answers, "course": application.course.programme.code}, application.cohort.funding_round
    )
    for key in ("round", "course"):
        facts.pop(key, None)
    application.funding_decision = funding_decision_assess(
        user=application.user, course=application.course, answers=facts
    )
    application.trn = answers["trn"]
    application.full_name = answers["full_name"]
    application.date_of_birth = answers["date_of_birth"]
    application.endorser_name = answers["endorser_name"]
    application.endorser_email = answers["endorser_email"].lower()
    application.payment = answers.get(
        "payment", Application.Payment.SCHOLARSHIP if application.funding_decision.effective_funded else ""
    )
    application.support_requested = answers["support_requested"] == "yes"
    application.workplace_name = answers.get("workplace_name", "")
    application.institution_id = answers.get("urn") if answers.get("urn") else None
    application.submitted_at = timezone.now()
    application.save()
    transition(application, S.SUBMITTED, by=by)
    employment = Employment.objects.create(
        application=application,
        workplace_name=application.workplace_name or "Not given",
        institution_id=application.institution_id,
        role=answers.get("role", ""),
        headteacher_name=application.endorser_name,
        headteacher_email=application.endorser_email,
    )
    endorsement_request(
        application=application,
        name=application.endorser_name,
        email=application.endorser_email,
        employment=employment,
    )
    transition(application, S.AWAITING_ENDORSEMENT, by=by)
    return application


@transaction.atomic
def application_withdraw(*, application: Application, by: User, reason: str = "") -> Application:
    application = _locked(application)
    if application.status == S.ACCEPTED:
        raise ApplicationError(
            "An accepted application cannot be withdrawn here: ask your hub to withdraw you from the course."
        )
    application.decision_reason = reason
    return transition(application, S.WITHDRAWN, by=by, note=reason)


def applications_expire_stale(*, now: datetime | None = None) -> int:
    """Drafts not completed within the allowed days become ``registration_expired``. Rerunnable."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.APPLICATION_COMPLETION_DAYS)
    expired = 0
    for application in Application.objects.filter(status=S.DRAFT, started_at__lt=cutoff):
        with transaction.atomic():
            application = _locked(application)
            if application.status == S.DRAFT:
                transition(application, S.REGISTRATION_EXPIRED, by=None, at=now, note="Not completed in time")
                expired += 1
    return expired


# --- Endorsement --------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def endorsement_request(
    *,
    application: Application,
    name: str,
    email: str,
    kind: str = Endorsement.Kind.APPLICATION,
    employment: Employment | None = None,
) -> tuple[Endorsement, str]:
    """Create an endorsement request and email its link (after commit). Returns it and its token.
    The address is checked for staff (webmail, or a domain new for the school) as it is sent."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    urn = employment.institution_id if employment is not None else application.institution_id
    endorsement = Endorsement.objects.create(
        application=application,
        kind=kind,
        employment=employment,
        endorser_name=name,
        endorser_email=email.lower(),
        endorser_domain=email_domain(email),
        domain_concern=domain_concern(email=email, urn=urn, before=now),
        token_hash=_hash(token),
        sent_at=now,
        expires_at=now + timedelta(days=settings.ENDORSEMENT_LINK_DAYS),
    )
    transaction.on_commit(lambda: emails.endorsement_requested(endorsement, token))
    return endorsement, token


def endorsement_for_token(token: str) -> Endorsement:
    """The open endorsement of a link, or EndorsementLinkError saying why the link cannot be used."""
    endorsement = (
        Endorsement.objects.select_related(
            "application__user", "application__course__programme", "application__cohort__hub"
        )
        .filter(token_hash=_hash(token))
        .first()
    )
    if endorsement is None:
        raise EndorsementLinkError("This link is not valid.")
    if endorsement.used_at is not None:
        raise EndorsementLinkError("This link has already been used.")
    if endorsement.replaced_at is not None:
        raise EndorsementLinkError(REPLACED_LINK)
    if timezone.now() >= endorsement.expires_at:
        raise EndorsementLinkError("This link has expired.")
    application = endorsement.application
    if endorsement.kind == Endorsement.Kind.APPLICATION and application.status != S.AWAITING_ENDORSEMENT:
        raise EndorsementLinkError(
            f"This application is no longer waiting for endorsement: it {status_phrase(application.status)}."
        )
    if endorsement.kind == Endorsement.Kind.CHANGE_OF_EMPLOYER and (
        application.participant is None or application.participant.status not in Participant.LIVE_STATUSES
    ):
        raise EndorsementLinkError("This person is no longer on the course.")
    return endorsement


def may_endorse(*, endorsement: Endorsement, user: User) -> bool:
    """Only the person the request was sent to, signed in with that verified address."""
    return (
        user.is_authenticated
        and user.pk != endorsement.application.user_id
        and EmailAddress.objects.filter(
            user=user, email__iexact=endorsement.endorser_email, verified=True
        ).exists()
    )


@transaction.atomic
def endorsement_decide(*, token: str, user: User, endorse: bool, reason: str = "") -> Endorsement:
    """Answer the endorsement request of an emailed link."""
    return endorsement_answer(
        endorsement=endorsement_for_token(token), user=user, endorse=endorse, reason=reason
    )


@transaction.atomic
def endorsement_answer(
    *, endorsement: Endorsement, user: User, endorse: bool, reason: str = ""
) -> Endorsement:
    """Endorse or decline, once, as the person the request was sent to."""
    endorsement = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
    if endorsement.used_at is not None:
        raise EndorsementLinkError("This link has already been used.")
    if endorsement.replaced_at is not None:
        raise EndorsementLinkError(REPLACED_LINK)
    if timezone.now() >= endorsement.expires_at:
        raise EndorsementLinkError("This link has expired.")
    if not may_endorse(endorsement=endorsement, user=user):
        raise EndorsementLinkError("Only the person this request was sent to can answer it.")
    if not endorse and not reason.strip():
        raise ApplicationError("Give a reason for declining.")
    endorsement.used_at = timezone.now()
    endorsement.decision = Endorsement.Decision.ENDORSED if endorse else Endorsement.Decision.DECLINED
    endorsement.reason = reason.strip()
    endorsement.decided_by = user
    endorsement.save()
    application = _locked(endorsement.application)
    if endorsement.kind == Endorsement.Kind.APPLICATION:
        transition(
            application, S.ENDORSED if endorse else S.ENDORSEMENT_DECLINED, by=user, note=endorsement.reason
        )
    if endorse and endorsement.employment_id:
        employment_confirm(employment=endorsement.employment)
    transaction.on_commit(lambda: emails.endorsement_decided(endorsement))
    return endorsement


# --- Checking the endorser's address (staff) ----------------------------------------------------


@transaction.atomic
def endorsement_domain_confirm(*, endorsement: Endorsement, by: User) -> Endorsement:
    """Staff checked with the school that the address is the endorser's: record who and when."""
    endorsement = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
    if endorsement.replaced_at is not None:
        raise ApplicationError("This endorsement request was replaced by a newer one.")
    if not endorsement.domain_concern:
        raise ApplicationError("The endorser's address raised no concern, so there is nothing to confirm.")
    if endorsement.domain_confirmed_at is None:
        endorsement.domain_confirmed_at, endorsement.domain_confirmed_by = timezone.now(), by
        endorsement.save(update_fields=["domain_confirmed_at", "domain_confirmed_by"])
    return endorsement


ASK_AGAIN_STATUSES = (S.AWAITING_ENDORSEMENT, S.ENDORSED)


@transaction.atomic
def endorsement_request_again(*, application: Application, name: str, email: str, by: User) -> Endorsement:
    """Staff ask for the endorsement again, at a corrected address: the earlier link stops
    working at once (answered or not), and an endorsed application waits for the new answer."""
    application = _locked(application)
    if application.status not in ASK_AGAIN_STATUSES:
        raise ApplicationError(
            "The endorsement can be asked for again only while the application waits for it or "
            f"before the hub decides, not once it {status_phrase(application.status)}."
        )
    name, email = name.strip(), email.strip().lower()
    if not name or not email:
        raise ApplicationError("Give the endorser's name and email address.")
    now = timezone.now()
    earlier = list(
        Endorsement.objects.select_for_update().filter(
            application=application, kind=Endorsement.Kind.APPLICATION, replaced_at__isnull=True
        )
    )
    for old in earlier:
        old.replaced_at, old.replaced_by = now, by
        old.save(update_fields=["replaced_at", "replaced_by"])
    employment = next((e.employment for e in earlier if e.employment_id), None)
    if employment is not None:
        employment.headteacher_name, employment.headteacher_email = name, email
        employment.confirmed = False
        employment.save(update_fields=["headteacher_name", "headteacher_email", "confirmed"])
    application.endorser_name, application.endorser_email = name, email
    application.save(update_fields=["endorser_name", "endorser_email"])
    endorsement, _ = endorsement_request(
        application=application, name=name, email=email, employment=employment
    )
    if application.status == S.ENDORSED:
        transition(
            application,
            S.AWAITING_ENDORSEMENT,
            by=by,
            note=f"Endorsement asked for again, of {name} ({email}).",
        )
    return endorsement


# --- Hub decisions ------------------------------------------------------------------------------


def _free_group(course: Course) -> Group | None:
    return Group.objects.filter(course=course, enrolled__lt=F("capacity")).order_by("name").first()


def _lock_course(course_id: int) -> Course:
    # FOR NO KEY UPDATE: a mutex for the course's places that still lets rows referring to the
    # course be written meanwhile (a withdrawal's FreedPlace takes a key-share lock on it).
    return (
        Course.objects.select_for_update(of=("self",), no_key=True)
        .select_related("programme", "cohort")
        .get(pk=course_id)
    )


def _lock_applicant(application: Application) -> Application:
    """Lock every application of the applicant in id order (accepting closes their others), then
    return this one locked. The one lock order everywhere: course, then applications by id, then
    groups by id; so accepts, offers, waiting-list moves and withdrawals never deadlock."""
    list(
        Application.objects.select_for_update(of=("self",))
        .filter(user_id=application.user_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return _locked(application)


def places_taken(course: Course) -> int:
    """Funded places are held by accepted applicants still on the course, except places paid by
    the school or the participant (funded_place false: applications/funded_places.py)."""
    return funded_places_used(course)


def first_in_line(course: Course) -> Application | None:
    return (
        Application.objects.filter(course=course, status=S.WAITLISTED)
        .order_by("waitlist_position", "pk")
        .first()
    )


def accept_needs_out_of_turn_reason(application: Application) -> Application | None:
    """The first in line, when someone else is waiting ahead of ``application`` (decisions.md,
    30: while anyone waits, a free place is held for the first in line)."""
    first = first_in_line(application.course)
    return first if first is not None and first.pk != application.pk else None


@transaction.atomic
def application_accept(
    *,
    application: Application,
    by: User | None,
    group: Group | None = None,
    out_of_turn_reason: str = "",
    funded_place: bool | None = None,
) -> Application:
    """Accept onto the course: within its funded places, into a group with a free place.

    While people are on the course's waiting list, a free place is held for the first in line:
    anyone else is accepted only with a reason for going out of turn (recorded in the history).
    When the course has groups and every one is full, the accept is refused: nobody is ever
    accepted silently without a group. A course with no groups yet accepts people, who are
    listed as needing a group."""
    course = _lock_course(application.course_id)
    application = _lock_applicant(application)
    if S.ACCEPTED not in TRANSITIONS[application.status]:
        raise ApplicationError(
            "Only an endorsed or waitlisted application can be accepted. "
            f"This one {status_phrase(application.status)}."
        )
    funded_place = _funded_place_on_accept(application, funded_place, course)
    note = ""
    # Held places are funded places: a place paid by the school or the participant takes none.
    ahead = accept_needs_out_of_turn_reason(application) if funded_place is not False else None
    if ahead is not None:
        reason = out_of_turn_reason.strip()
        if not reason:
            waiting = Application.objects.filter(course=course, status=S.WAITLISTED).count()
            raise OutOfTurnReasonNeeded(
                f"{waiting} {'person is' if waiting == 1 else 'people are'} on the waiting list for "
                f"{course}, and free places are held for them in turn: NPQ-{ahead.pk:06d} is first. "
                "Accept them first, or give your reason for accepting this application out of turn."
            )
        note = f"Accepted out of turn, ahead of NPQ-{ahead.pk:06d}: {reason}"
    if group is None:
        group = _free_group(course)
        if group is None and Group.objects.filter(course=course).exists():
            raise ApplicationError(
                f"Every group of {course} is full. Add places to a group or add a group, then accept."
            )
    try:
        participant = participant_enrol(
            user=application.user,
            course=course,
            group=group,
            trn=application.trn,
            mentor_name=application.answers.get("mentor_name", ""),
            mentor_email=application.answers.get("mentor_email", ""),
            by=by,
        )
    except EnrolmentError as exc:
        raise ApplicationError(str(exc)) from exc
    application.participant = participant
    application.waitlist_position = None
    transition(application, S.ACCEPTED, by=by, note=note)
    funded_place_record(application, funded_place, by=by, reason=note or "Accepted")
    _reject_other_applications(application, by)
    transaction.on_commit(lambda: emails.application_decided(application))
    return application


def _funded_place_on_accept(application: Application, requested: bool | None, course: Course) -> bool | None:
    """The accepted place's funded_place (yes only when eligible); only a place that may be funded
    needs one of the course's funded places free. A place paid by the school or the participant
    can be accepted beyond them."""
    try:
        funded_place = funded_place_on_accept(application, requested)
    except FundedPlaceError as exc:
        raise ApplicationError(str(exc)) from exc
    if funded_place is not False and places_taken(course) >= course.funded_places:
        raise ApplicationError(
            f"{course} is full ({course.funded_places} places). Put the application on the waiting list, "
            "or accept it as a place paid by the school or the participant, which uses no funded place."
        )
    return funded_place


def _reject_other_applications(application: Application, by: User) -> None:
    """Accepting one application closes the user's others for this NPQ in the same intake."""
    others = (
        Application.objects.select_for_update(of=("self",))
        .filter(
            user=application.user,
            course__programme=application.course.programme,
            cohort__identifier=application.cohort.identifier,
            status__in=[
                s
                for s in Application.OPEN_STATUSES
                if S.REJECTED in TRANSITIONS[s] or S.WITHDRAWN in TRANSITIONS[s]
            ],
        )
        .exclude(pk=application.pk)
    )
    for other in others:
        reason = f"Accepted on {application.course} with {application.cohort.hub}."
        other.decision_reason = reason
        target = S.REJECTED if S.REJECTED in TRANSITIONS[other.status] else S.WITHDRAWN
        transition(other, target, by=by, note=reason)


@transaction.atomic
def application_waitlist(*, application: Application, by: User) -> Application:
    _lock_course(application.course_id)  # positions are handed out in turn (course first: lock order)
    application = _locked(application)
    if S.WAITLISTED not in TRANSITIONS[application.status]:
        raise ApplicationError("Only an endorsed application can go on the waiting list.")
    last = Application.objects.filter(course_id=application.course_id, status=S.WAITLISTED).aggregate(
        m=Max("waitlist_position")
    )["m"]
    application.waitlist_position = (last or 0) + 1
    transition(application, S.WAITLISTED, by=by)
    transaction.on_commit(lambda: emails.application_decided(application))
    return application


@transaction.atomic
def application_reject(*, application: Application, by: User, reason: str) -> Application:
    if not reason.strip():
        raise ApplicationError("Give the reason for not accepting the application.")
    application = _locked(application)
    application.decision_reason = reason.strip()
    application.waitlist_position = None
    transition(application, S.REJECTED, by=by, note=reason.strip())
    transaction.on_commit(lambda: emails.application_decided(application))
    return application


def waitlist_offer_places(*, course_id: int) -> list[Application]:
    """Give the course's free places to its waiting list, first in line first, and settle the
    places freed by withdrawals. Run by a retried job after each withdrawal and by the periodic
    sweep; safe to run twice or at once (the course lock serialises runs)."""
    offered: list[Application] = []
    with transaction.atomic():
        course = _lock_course(course_id)
        blocked = ""
        while (first := first_in_line(course)) is not None and places_taken(course) < course.funded_places:
            try:
                offered.append(application_accept(application=first, by=None))
            except ApplicationError as exc:  # e.g. every group is full: staff must make room
                blocked = str(exc)
                break
        _settle_freed_places(course, offered, blocked)
    return offered


def _settle_freed_places(course: Course, offered: list[Application], blocked: str) -> None:
    now = timezone.now()
    unsettled = list(
        FreedPlace.objects.select_for_update()
        .filter(course=course, settled_at__isnull=True)
        .order_by("freed_at", "pk")
    )
    for freed, application in zip(unsettled, offered, strict=False):
        freed.settled_at, freed.outcome = now, f"Offered to NPQ-{application.pk:06d}, first in line."
        freed.save(update_fields=["settled_at", "outcome"])
    for freed in unsettled[len(offered) :]:
        if blocked:  # stays open: the sweep offers it once staff make room
            freed.outcome = f"Not offered yet: {blocked}"
        else:
            freed.settled_at = now
            freed.outcome = (
                "Nobody was waiting."
                if first_in_line(course) is None
                else "Not offered: the course has no free funded place."
            )
        freed.save(update_fields=["settled_at", "outcome"])


def waiting_lists_offer(today=None) -> int:
    """The periodic sweep: every course with a place freed and not yet settled, or with people
    waiting, gets its free places offered. Returns how many were offered a place."""
    course_ids = set(
        FreedPlace.objects.filter(settled_at__isnull=True).values_list("course_id", flat=True).distinct()
    ) | set(Application.objects.filter(status=S.WAITLISTED).values_list("course_id", flat=True).distinct())
    return sum(len(waitlist_offer_places(course_id=course_id)) for course_id in sorted(course_ids))


# --- Change of employer -------------------------------------------------------------------------


@transaction.atomic
def employment_change_request(
    *,
    participant: Participant,
    workplace_name: str,
    headteacher_name: str,
    headteacher_email: str,
    role: str = "",
    institution_id: int | None = None,
    starts_on=None,
) -> Employment:
    """An enrolled participant asks to continue at a new employer; the new head must endorse."""
    application = Application.objects.select_for_update(of=("self",)).filter(participant=participant).first()
    if application is None or participant.status not in Participant.LIVE_STATUSES:
        raise ApplicationError("Only an enrolled participant can ask to continue at a new employer.")
    if Employment.objects.filter(
        application=application,
        confirmed=False,
        endorsements__used_at__isnull=True,
        endorsements__expires_at__gt=timezone.now(),  # an unanswered request lapses with its link
    ).exists():
        raise ApplicationError("You have already asked to continue at a new employer; wait for their answer.")
    employment = Employment.objects.create(
        application=application,
        workplace_name=workplace_name,
        institution_id=institution_id,
        role=role,
        headteacher_name=headteacher_name,
        headteacher_email=headteacher_email.lower(),
        starts_on=starts_on,
    )
    endorsement_request(
        application=application,
        name=headteacher_name,
        email=headteacher_email,
        kind=Endorsement.Kind.CHANGE_OF_EMPLOYER,
        employment=employment,
    )
    return employment


def employment_confirm(*, employment: Employment) -> Employment:
    """The new employer agreed: the new employment is current; the previous one ends."""
    today = timezone.localdate()
    Employment.objects.filter(
        application=employment.application, confirmed=True, ends_on__isnull=True
    ).exclude(pk=employment.pk).update(ends_on=employment.starts_on or today)
    employment.confirmed = True
    employment.starts_on = employment.starts_on or today
    employment.save(update_fields=["confirmed", "starts_on"])
    return employment
