"""Marking: scripts given to markers in turn (and back to the pool), marks, a lead for
disagreements, and the moderation sample."""

from __future__ import annotations

import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..models import AssessmentWindow, Entry, MarkingAssignment
from .entries import AssessmentError
from .submissions import latest_submission

# --- Marking --------------------------------------------------------------------------------------


def is_current_marker(*, user: User, hub_id: int) -> bool:
    """Marking is for active staff of the script's hub, at the moment they mark."""
    from programmes.models import HubMembership

    return bool(user.is_active and HubMembership.objects.filter(user_id=user.pk, hub_id=hub_id).exists())


@transaction.atomic
def markers_assign(*, window: AssessmentWindow, markers: list[User]) -> int:
    """Give the scripts in the pool (their marker left) and those without a first marker to
    ``markers`` in turn, never to someone who already marked the script. Returns how many."""
    if not markers:
        raise AssessmentError("Choose at least one marker.")
    hub_id = window.course.cohort.hub_id
    for marker in markers:
        if not is_current_marker(user=marker, hub_id=hub_id):
            raise AssessmentError(f"{marker} is not on the staff of {window.course.cohort.hub}.")
    turn = 0

    def next_marker(involved: set[int]) -> User | None:
        nonlocal turn
        for offset in range(len(markers)):
            candidate = markers[(turn + offset) % len(markers)]
            if candidate.pk not in involved:
                turn += offset + 1
                return candidate
        return None

    given = 0
    pooled = (
        MarkingAssignment.objects.select_for_update()
        .filter(entry__window=window, marker__isnull=True)
        .order_by("entry_id", "pk")
    )
    for assignment in pooled:
        involved = set(
            assignment.entry.marking.exclude(marker__isnull=True).values_list("marker_id", flat=True)
        )
        marker = next_marker(involved)
        if marker is not None:
            assignment.marker = marker
            assignment.save(update_fields=["marker"])
            given += 1
    entries = [
        e
        for e in window.entries.filter(access__in=[Entry.Access.ENGAGEMENT, Entry.Access.GRANTED])
        .exclude(marking__role=MarkingAssignment.Role.FIRST)
        .order_by("pk")
        if latest_submission(e) is not None
    ]
    for entry in entries:
        MarkingAssignment.objects.create(
            entry=entry, role=MarkingAssignment.Role.FIRST, marker=next_marker(set())
        )
    return given + len(entries)


def marking_return_to_pool(*, user: User, hub_id: int | None = None) -> int:
    """``user``'s scripts not yet marked (at ``hub_id``, or everywhere) go back to the pool, for
    staff to give to another marker. Marks already given stay. Returns how many."""
    pending = MarkingAssignment.objects.filter(
        marker=user, result="", entry__window__results_released_at__isnull=True
    )
    if hub_id is not None:
        pending = pending.filter(entry__window__course__cohort__hub_id=hub_id)
    return pending.update(marker=None)


def marking_pool_size(*, window: AssessmentWindow) -> int:
    return MarkingAssignment.objects.filter(entry__window=window, marker__isnull=True).count()


@transaction.atomic
def mark(*, assignment: MarkingAssignment, by: User, result: str, feedback: str) -> MarkingAssignment:
    assignment = (
        MarkingAssignment.objects.select_for_update(of=("self",))
        .select_related("entry__window__course__cohort")
        .get(pk=assignment.pk)
    )
    if assignment.marker_id is None or assignment.marker_id != by.pk:
        raise AssessmentError("Only the marker this script was given to can mark it.")
    if not is_current_marker(user=by, hub_id=assignment.entry.window.course.cohort.hub_id):
        raise AssessmentError("Only current staff of the hub can mark its scripts.")
    if assignment.entry.window.results_released_at:
        raise AssessmentError("Results have been released; marks can no longer change.")
    if result not in MarkingAssignment.Result.values:
        raise AssessmentError("Choose pass or fail.")
    if not feedback.strip():
        raise AssessmentError("Enter feedback for the participant.")
    assignment.result, assignment.feedback, assignment.marked_at = result, feedback.strip(), timezone.now()
    assignment.save(update_fields=["result", "feedback", "marked_at"])
    if assignment.role == MarkingAssignment.Role.MODERATION:
        first = assignment.entry.marking.get(role=MarkingAssignment.Role.FIRST)
        if first.result != result:
            _lead_needed(assignment.entry)
    return assignment


def _lead_needed(entry: Entry) -> None:
    """Disagreements go to a lead: the hub's first administrator who marked neither."""
    from programmes.models import HubMembership

    involved = set(entry.marking.exclude(marker__isnull=True).values_list("marker_id", flat=True))
    lead = (
        HubMembership.objects.filter(
            hub=entry.window.course.cohort.hub, role=HubMembership.Role.HUB_ADMIN, user__is_active=True
        )
        .exclude(user_id__in=involved)
        .order_by("pk")
        .first()
    )
    if lead is None:
        raise AssessmentError(
            "A lead marker is needed to resolve a disagreement, but no other hub administrator is available."
        )
    assignment, _ = MarkingAssignment.objects.get_or_create(
        entry=entry, role=MarkingAssignment.Role.LEAD, defaults={"marker": lead.user}
    )
    if assignment.marker_id is None:  # back in the pool: the earlier lead left
        assignment.marker = lead.user
        assignment.save(update_fields=["marker"])


@transaction.atomic
def moderation_sample(
    *, window: AssessmentWindow, moderator: User, share_of_passes: float | None = None
) -> int:
    """Second marking of every fail and a share of the passes (every n-th, in a fixed order)."""
    share = settings.ASSESSMENT_MODERATION_PASS_SHARE if share_of_passes is None else share_of_passes
    if moderator is None:
        raise AssessmentError("Choose a moderator.")
    if not is_current_marker(user=moderator, hub_id=window.course.cohort.hub_id):
        raise AssessmentError(f"{moderator} is not on the staff of {window.course.cohort.hub}.")
    firsts = list(
        MarkingAssignment.objects.filter(entry__window=window, role=MarkingAssignment.Role.FIRST).order_by(
            "entry_id"
        )
    )
    if any(not a.result for a in firsts):
        raise AssessmentError("Moderation starts when every script has its first mark.")
    fails = [a for a in firsts if a.result == MarkingAssignment.Result.FAIL]
    passes = [a for a in firsts if a.result == MarkingAssignment.Result.PASS]
    wanted = math.ceil(len(passes) * share)
    step = len(passes) / wanted if wanted else 0
    sampled = fails + [passes[int(i * step)] for i in range(wanted)]
    created = 0
    for first in sampled:
        if first.marker_id == moderator.pk:
            raise AssessmentError("The moderator must not moderate their own marking.")
        assignment, made = MarkingAssignment.objects.get_or_create(
            entry=first.entry, role=MarkingAssignment.Role.MODERATION, defaults={"marker": moderator}
        )
        if assignment.marker_id is None:  # back in the pool: the earlier moderator left
            assignment.marker = moderator
            assignment.save(update_fields=["marker"])
            made = True
        created += made
    return created
