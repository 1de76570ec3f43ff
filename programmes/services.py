"""Writes to the delivery model. Enrolments and their status change here and nowhere else."""

from __future__ import annotations

import calendar
import logging
from datetime import date

from django.contrib.auth.models import Group as AuthGroup
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User

from .models import (
    Cohort,
    Course,
    FreedPlace,
    Group,
    Hub,
    HubMembership,
    Participant,
    Programme,
)
from .roles import FACILITATOR_GROUP, HUB_ADMIN_GROUP
from .signals import participant_status_changed, place_freed, staff_left

logger = logging.getLogger(__name__)

# DfE's reasons (NPQ participant API v3, all 21 and 5 of them), sent to DfE exactly as written.
WITHDRAWAL_REASONS: dict[str, str] = {
    "insufficient-capacity-to-undertake-programme": "Insufficient capacity to undertake programme",
    "personal-reason-health-or-pregnancy-related": "Personal reason: health or pregnancy related",
    "personal-reason-moving-school": "Personal reason: moving school",
    "personal-reason-other": "Personal reason: other",
    "insufficient-capacity": "Insufficient capacity",
    "change-in-developmental-or-personal-priorities": "Change in developmental or personal priorities",
    "change-in-school-circumstances": "Change in school circumstances",
    "change-in-school-leadership": "Change in school leadership",
    # DfE's value ends with a full stop (published API): sent exactly so.
    "quality-of-programme-structure-not-suitable.": "Quality of programme: structure not suitable",
    "quality-of-programme-content-not-suitable": "Quality of programme: content not suitable",
    "quality-of-programme-facilitation-not-effective": "Quality of programme: facilitation not effective",
    "quality-of-programme-accessibility": "Quality of programme: accessibility",
    "quality-of-programme-other": "Quality of programme: other",
    "programme-not-appropriate-for-role-and-cpd-needs": "Programme not appropriate for role and CPD needs",
    "started-in-error": "Started in error",
    "expected-commitment-unclear": "Expected commitment unclear",
    "assessment-requirements-not-met": "Assessment requirements not met",
    "change-in-career": "Change in career",
    "disengaged-and-unresponsive": "Disengaged and unresponsive",
    "non-payment-of-invoice": "Non-payment of invoice",
    "other": "Other",
}
DEFERRAL_REASONS: dict[str, str] = {
    "bereavement": "Bereavement",
    "long-term-sickness": "Long-term sickness",
    "parental-leave": "Parental leave",
    "career-break": "Career break",
    "other": "Other",
}

ROLE_GROUPS = {
    HubMembership.Role.HUB_ADMIN: HUB_ADMIN_GROUP,
    HubMembership.Role.FACILITATOR: FACILITATOR_GROUP,
}


class EnrolmentError(ValueError):
    """A change to an enrolment that the rules refuse; the message is shown to staff."""


# --- Courses --------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def delivery_end_for(*, programme: Programme, delivery_start: date) -> date:
    return add_months(delivery_start, programme.delivery_months)


@transaction.atomic
def course_create(
    *, cohort: Cohort, programme: Programme, funded_places: int, delivery_start: date | None = None
) -> Course:
    """Run ``programme`` in ``cohort``; delivery runs for the programme's length from the start."""
    start = delivery_start or cohort.start_date
    return Course.objects.create(
        cohort=cohort,
        programme=programme,
        delivery_start=start,
        delivery_end=delivery_end_for(programme=programme, delivery_start=start),
        funded_places=funded_places,
    )


# --- Hub staff ------------------------------------------------------------------------------


@transaction.atomic
def hub_membership_add(*, hub: Hub, user: User, role: str) -> HubMembership:
    """Make ``user`` staff of ``hub`` in ``role``: admin access and the role's permissions."""
    membership, _ = HubMembership.objects.update_or_create(hub=hub, user=user, defaults={"role": role})
    sync_staff_access(user=user)
    return membership


@transaction.atomic
def membership_change(
    *, membership: HubMembership, hub: Hub, user: User, role: str, by: User | None = None
) -> HubMembership:
    """Edit a membership. A different person or hub is someone leaving (their access there ends,
    as in ``membership_end``) and someone joining; a different role is just that."""
    current = HubMembership.objects.select_for_update().filter(pk=membership.pk).first()
    if current is not None and (current.hub_id, current.user_id) != (hub.pk, user.pk):
        membership_end(membership=current, by=by)
    return hub_membership_add(hub=hub, user=user, role=role)


@transaction.atomic
def membership_end(*, membership: HubMembership, by: User | None = None) -> None:
    """``membership.user`` leaves ``membership.hub``, in one transaction: the membership goes,
    their facilitation of the hub's groups ends, their unmarked scripts there go back to the
    pool (assessment listens to ``staff_left``), and their admin access follows what remains."""
    membership = (
        HubMembership.objects.select_for_update()
        .select_related("user", "hub")
        .filter(pk=membership.pk)
        .first()
    )
    if membership is None:  # already ended (a second click, or two staff at once)
        return
    user, hub = membership.user, membership.hub
    membership.delete()
    _staff_work_end(user=user, hub=hub, by=by)
    sync_staff_access(user=user)


hub_membership_remove = membership_end  # the earlier name


def staff_work_end_on_deactivation(*, user: User, by: User | None = None, **_: object) -> None:
    """An account was deactivated (accounts.services.user_deactivate, in its transaction): every
    group facilitation ends, every unmarked script goes back to the pool (staff_left), and staff
    access follows. Hub memberships stay, so that reactivating someone is a deliberate second
    step for the facilitation and marking."""
    _staff_work_end(user=user, hub=None, by=by)
    sync_staff_access(user=user)


def _staff_work_end(*, user: User, hub: Hub | None, by: User | None) -> None:
    """End ``user``'s facilitation (of ``hub``'s groups, or all) and tell other apps they left."""
    facilitations = Group.facilitators.through.objects.filter(user=user)
    if hub is not None:
        facilitations = facilitations.filter(group__course__cohort__hub=hub)
    ended, _ = facilitations.delete()
    staff_left.send(sender=HubMembership, user=user, hub_id=hub.pk if hub else None, by=by)
    logger.info(
        "staff work ended: user=%s hub=%s by=%s facilitations=%s",
        user.pk,
        hub.pk if hub else "all",
        by.pk if by else None,
        ended,
    )


def sync_staff_access(*, user: User) -> None:
    """Give ``user`` exactly the role groups of their memberships (facilitating a group counts)."""
    roles = set(HubMembership.objects.filter(user=user).values_list("role", flat=True))
    if Group.objects.filter(facilitators=user).exists():
        roles.add(HubMembership.Role.FACILITATOR)
    wanted = {ROLE_GROUPS[role] for role in roles}
    for name in ROLE_GROUPS.values():
        group = AuthGroup.objects.get(name=name)
        if name in wanted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    # Admin access follows the roles (superusers keep theirs).
    staff = bool(wanted) or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


# --- Enrolments -----------------------------------------------------------------------------


def _take_place(group: Group) -> None:
    """Count one more participant in ``group``; the database refuses it when the group is full."""
    try:
        with transaction.atomic():
            Group.objects.filter(pk=group.pk).update(enrolled=F("enrolled") + 1)
    except IntegrityError as exc:
        raise EnrolmentError(f"{group.name} is full ({group.capacity} places).") from exc


def _free_place(group_id: int | None) -> None:
    if group_id is not None:
        Group.objects.filter(pk=group_id).update(enrolled=F("enrolled") - 1)


def _today(on: date | None) -> date:
    return on or timezone.localdate()


def _locked(participant: Participant) -> Participant:
    return Participant.objects.select_for_update().get(pk=participant.pk)


def validate_enrolment(*, user: User, course: Course, group: Group | None) -> None:
    """Raise EnrolmentError when ``user`` cannot be enrolled on ``course`` in ``group``."""
    if group is not None and group.course_id != course.pk:
        raise EnrolmentError(f"{group.name} is not a group of {course}.")
    if (
        Participant.objects.filter(user=user, course=course)
        .exclude(status=Participant.Status.WITHDRAWN)
        .exists()
    ):
        raise EnrolmentError(f"{user} is already enrolled on {course}.")
    if group is not None and Group.objects.filter(pk=group.pk, enrolled__gte=F("capacity")).exists():
        raise EnrolmentError(f"{group.name} is full ({group.capacity} places).")


@transaction.atomic
def participant_enrol(
    *,
    user: User,
    course: Course,
    group: Group | None = None,
    trn: str = "",
    mentor_name: str = "",
    mentor_email: str = "",
    by: User | None = None,
) -> Participant:
    """Enrol ``user`` on ``course`` (in ``group``). One live enrolment per user per course."""
    validate_enrolment(user=user, course=course, group=group)
    if group is not None:
        _take_place(group)
    participant = Participant(
        user=user,
        course=course,
        group=group,
        trn=trn,
        mentor_name=mentor_name,
        mentor_email=mentor_email,
    )
    participant._history_user = by
    participant.save()
    return participant


@transaction.atomic
def participant_defer(
    *, participant: Participant, reason: str, on: date | None = None, by: User | None = None
) -> Participant:
    """Pause an active participant's course; they keep their place in the group."""
    participant = _locked(participant)
    if participant.status != Participant.Status.ACTIVE:
        raise EnrolmentError(
            f"Only an active participant can be deferred ({participant.get_status_display().lower()})."
        )
    if reason not in DEFERRAL_REASONS:
        raise EnrolmentError(f"Choose a reason for deferral from the list, not {reason!r}.")
    return _set_status(participant, Participant.Status.DEFERRED, reason, _today(on), by)


@transaction.atomic
def participant_resume(
    *, participant: Participant, on: date | None = None, by: User | None = None
) -> Participant:
    participant = _locked(participant)
    if participant.status != Participant.Status.DEFERRED:
        raise EnrolmentError("Only a deferred participant can resume.")
    return _set_status(participant, Participant.Status.ACTIVE, "", _today(on), by)


@transaction.atomic
def participant_withdraw(
    *, participant: Participant, reason: str, on: date | None = None, by: User | None = None
) -> Participant:
    """Withdraw an active or deferred participant, freeing their place in the group."""
    participant = _locked(participant)
    if participant.status not in Participant.LIVE_STATUSES:
        raise EnrolmentError(f"A {participant.get_status_display().lower()} participant cannot be withdrawn.")
    if reason not in WITHDRAWAL_REASONS:
        raise EnrolmentError(f"Choose a reason for withdrawal from the list, not {reason!r}.")
    _free_place(participant.group_id)
    # The freed place is recorded with the withdrawal (same transaction): the offer to the waiting
    # list runs after commit as a retried job, and the periodic sweep finds any it missed.
    FreedPlace.objects.create(
        course_id=participant.course_id, participant=participant, freed_at=timezone.now()
    )
    course_id = participant.course_id
    transaction.on_commit(lambda: place_freed.send(sender=Participant, course_id=course_id), robust=True)
    return _set_status(participant, Participant.Status.WITHDRAWN, reason, _today(on), by)


@transaction.atomic
def participant_move_group(*, participant: Participant, group: Group, by: User | None = None) -> Participant:
    """Move a live participant to another group of the same course, if it has a place."""
    participant = _locked(participant)
    if participant.status not in Participant.LIVE_STATUSES:
        raise EnrolmentError("Only an active or deferred participant can move group.")
    if group.course_id != participant.course_id:
        raise EnrolmentError(f"{group.name} is not a group of this participant's course.")
    if group.pk == participant.group_id:
        raise EnrolmentError(f"The participant is already in {group.name}.")
    # Both group rows are written in id order, as everywhere, so two moves never deadlock.
    if participant.group_id is not None and participant.group_id < group.pk:
        _free_place(participant.group_id)
        _take_place(group)
    else:
        _take_place(group)
        _free_place(participant.group_id)
    participant.group = group
    participant._history_user = by
    participant.save(update_fields=["group"])
    return participant


def _set_status(participant: Participant, status: str, reason: str, on: date, by: User | None) -> Participant:
    participant.status = status
    participant.status_reason = reason
    participant.status_changed_on = on
    participant._history_user = by
    participant.save(update_fields=["status", "status_reason", "status_changed_on"])
    participant_status_changed.send(
        sender=Participant, participant=participant, status=status, reason=reason, by=by
    )
    return participant
