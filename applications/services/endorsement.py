"""Endorsement: the emailed link, the endorser's answer, staff checks of the address, asking
again; and the change of employer, which the new employer's head endorses."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from programmes.models import Participant

from .. import emails
from ..endorsement_checks import domain_concern, email_domain
from ..models import Application, Employment, Endorsement
from ..selectors import status_phrase
from .lifecycle import ApplicationError, EndorsementLinkError, S, _locked, transition

REPLACED_LINK = "This link has been replaced: the hub asked for the endorsement again, in a newer email."


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
