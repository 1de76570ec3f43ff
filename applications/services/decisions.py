"""Hub decisions: accept (within funded places, into a group, in waiting-list order), put on the
waiting list, reject; and offering the places freed by withdrawals to the waiting list."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import User
from programmes.models import Course, FreedPlace, Group
from programmes.services import EnrolmentError, participant_enrol

from .. import emails
from ..funded_places import FundedPlaceError, funded_place_on_accept, funded_place_record, funded_places_used
from ..models import Application
from ..selectors import status_phrase
from .lifecycle import TRANSITIONS, ApplicationError, OutOfTurnReasonNeeded, S, _locked, transition

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
