"""Who is who at DfE: lead providers' tokens and staff, hubs as delivery partners, schedules."""

from __future__ import annotations

from django.contrib.auth.models import Group as AuthGroup
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from programmes.models import Hub, HubMembership, LeadProvider, Participant
from programmes.roles import LEAD_PROVIDER_GROUP
from programmes.services import EnrolmentError, sync_staff_access

from .crypto import encrypt_token
from .identifiers import SCHEDULE_IDENTIFIERS
from .models import DfeWrite, LeadProviderAccount, LeadProviderStaff


@transaction.atomic
def token_set(*, lead_provider: LeadProvider, token: str) -> LeadProviderAccount:
    """Store the lead provider's DfE API token, encrypted (DFE_TOKEN_KEY)."""
    token = token.strip()
    if not token:
        raise ValueError("Enter the DfE API token.")
    if not (token.isascii() and token.isprintable() and " " not in token):
        # It goes in an HTTP header: anything else made every sync fail, never saying why.
        raise ValueError(
            "The token has a character DfE tokens never have: copy it again, with only letters, "
            "digits and signs, no quotes or spaces."
        )
    account, _ = LeadProviderAccount.objects.select_for_update().get_or_create(lead_provider=lead_provider)
    account.token_encrypted = encrypt_token(token)
    account.token_set_at = timezone.now()
    account.save(update_fields=["token_encrypted", "token_set_at"])
    return account


@transaction.atomic
def lead_provider_staff_add(*, lead_provider: LeadProvider, user: User) -> LeadProviderStaff:
    """Make ``user`` staff of the lead provider: administrator of every one of its hubs (kept
    as hub memberships, the one registry that scopes staff pages) and of its DfE link."""
    staff, _ = LeadProviderStaff.objects.get_or_create(lead_provider=lead_provider, user=user)
    LeadProviderAccount.objects.get_or_create(lead_provider=lead_provider)  # where they set the token
    lead_provider_staff_sync(lead_provider_id=lead_provider.pk)
    user.groups.add(AuthGroup.objects.get(name=LEAD_PROVIDER_GROUP))
    return staff


@transaction.atomic
def lead_provider_staff_remove(*, staff: LeadProviderStaff) -> None:
    """Their hub memberships at the provider's hubs end with the role."""
    from programmes.services import membership_end

    user, lead_provider_id = staff.user, staff.lead_provider_id
    staff.delete()
    for membership in HubMembership.objects.filter(user=user, hub__lead_provider_id=lead_provider_id):
        membership_end(membership=membership)
    if not LeadProviderStaff.objects.filter(user=user).exists():
        user.groups.remove(AuthGroup.objects.get(name=LEAD_PROVIDER_GROUP))


def lead_provider_staff_sync(*, lead_provider_id: int) -> None:
    """Every staff member of the provider administers every hub of the provider."""
    hubs = list(Hub.objects.filter(lead_provider_id=lead_provider_id))
    for staff in LeadProviderStaff.objects.filter(lead_provider_id=lead_provider_id).select_related("user"):
        for hub in hubs:
            HubMembership.objects.update_or_create(
                hub=hub, user=staff.user, defaults={"role": HubMembership.Role.HUB_ADMIN}
            )
        sync_staff_access(user=staff.user)


@transaction.atomic
def participant_change_schedule(
    *, participant: Participant, schedule_identifier: str, by: User | None = None
) -> DfeWrite:
    """Tell DfE the participant follows another schedule (the portal keeps its own dates)."""
    from .writes import accepted_dfe_application, participant_change_payload, record_write

    if schedule_identifier not in SCHEDULE_IDENTIFIERS:
        raise EnrolmentError(f"Choose one of DfE's schedules, not {schedule_identifier!r}.")
    if participant.status not in Participant.LIVE_STATUSES:
        raise EnrolmentError("Only an active or deferred participant can change schedule.")
    dfe_app = accepted_dfe_application(participant)
    if dfe_app is None:
        raise EnrolmentError("This participant did not come through DfE: there is no DfE schedule to change.")
    return record_write(
        dfe_application=dfe_app,
        action=DfeWrite.Action.CHANGE_SCHEDULE,
        payload=participant_change_payload(
            dfe_app, DfeWrite.Action.CHANGE_SCHEDULE, schedule=schedule_identifier
        ),
        by=by,
    )
