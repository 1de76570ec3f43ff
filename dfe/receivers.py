"""What the portal decides, recorded as changes to send to DfE in the same transaction."""

from __future__ import annotations

from django.db.models.signals import post_save, pre_save

from applications.models import Application, Transition

from .models import DfeApplication, DfeWrite

S = Application.Status
A = DfeWrite.Action


def connect() -> None:
    from programmes.models import Hub
    from programmes.signals import participant_status_changed

    post_save.connect(on_transition, sender=Transition, dispatch_uid="dfe_on_transition")
    pre_save.connect(on_hub_saving, sender=Hub, dispatch_uid="dfe_on_hub_saving")
    post_save.connect(on_hub_saved, sender=Hub, dispatch_uid="dfe_on_hub_saved")
    participant_status_changed.connect(on_participant_status, dispatch_uid="dfe_on_participant_status")
    from assessment.models import AssessmentWindow

    post_save.connect(on_window_saved, sender=AssessmentWindow, dispatch_uid="dfe_on_results_released")


def on_window_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """Results released: completed declarations with has_passed (or the outcome on its own) once
    the release is committed (decisions.md, 39)."""
    if created or not instance.results_released_at or "results_released_at" not in (update_fields or ()):
        return
    from functools import partial

    from django.db import transaction

    from .declarations import declare_outcomes

    transaction.on_commit(partial(declare_outcomes, window=instance, by=None))


def on_transition(sender, instance: Transition, created: bool, **kwargs) -> None:
    """An application submitted is linked to the DfE application waiting for it; one accepted or
    rejected tells DfE (the payload is built from the committed decision before sending)."""
    if not created:
        return
    from .sync import link_submitted_application

    application = instance.application
    if instance.to_status == S.SUBMITTED:
        link_submitted_application(application)
        return
    if instance.to_status in (S.ACCEPTED, S.REJECTED):
        dfe_app = DfeApplication.objects.filter(application=application).first()
        if dfe_app is not None:
            decision_for_dfe(dfe_app, instance.to_status, by=instance.by)


def decision_for_dfe(dfe_app: DfeApplication, status: str, *, by=None) -> DfeWrite | None:
    """Record accept or reject for DfE, unless DfE has it already or it is recorded already."""
    from .writes import record_write

    action = A.ACCEPT if status == S.ACCEPTED else A.REJECT if status == S.REJECTED else None
    if action is None or dfe_app.status != DfeApplication.Status.PENDING:
        return None
    if (
        DfeWrite.objects.filter(dfe_application=dfe_app, action=action)
        .exclude(state=DfeWrite.State.REFUSED)
        .exists()
    ):
        return None
    return record_write(dfe_application=dfe_app, action=action, by=by)


def on_participant_status(sender, participant, status: str, reason: str, by=None, **kwargs) -> None:
    from programmes.models import Participant

    from .writes import accepted_dfe_application, participant_change_payload, record_write

    dfe_app = accepted_dfe_application(participant)
    if dfe_app is None:
        return
    action = {
        Participant.Status.WITHDRAWN: A.WITHDRAW,
        Participant.Status.DEFERRED: A.DEFER,
        Participant.Status.ACTIVE: A.RESUME,
    }.get(status)
    if action is None:
        return
    record_write(
        dfe_application=dfe_app,
        action=action,
        payload=participant_change_payload(dfe_app, action, reason=reason),
        by=by,
    )


def on_hub_saving(sender, instance, **kwargs) -> None:
    """Remember the hub's lead provider as stored, to tell a move to another provider."""
    instance._dfe_lead_provider_before = (
        sender.objects.filter(pk=instance.pk).values_list("lead_provider_id", flat=True).first()
        if instance.pk
        else None
    )


def on_hub_saved(sender, instance, created: bool, **kwargs) -> None:
    """A lead provider's staff administer its new hub too; a hub given to another provider is
    no longer administered by the previous provider's staff (unless they are the new one's)."""
    from .services import lead_provider_staff_sync

    before = getattr(instance, "_dfe_lead_provider_before", None)
    if created:
        lead_provider_staff_sync(lead_provider_id=instance.lead_provider_id)
    elif before is not None and before != instance.lead_provider_id:
        from programmes.models import HubMembership
        from programmes.services import membership_end

        from .models import LeadProviderStaff

        previous_staff = LeadProviderStaff.objects.filter(lead_provider_id=before).exclude(
            user__lead_provider_roles__lead_provider_id=instance.lead_provider_id
        )
        for membership in HubMembership.objects.filter(hub=instance, user__in=previous_staff.values("user")):
            membership_end(membership=membership)
        lead_provider_staff_sync(lead_provider_id=instance.lead_provider_id)
