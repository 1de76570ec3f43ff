"""Is the endorser's address really the headteacher's? Checks shown to hub staff.

Nothing stops an applicant naming an address they control (a second mailbox) as their
headteacher's or line manager's. The portal cannot prove who holds an address, so it points
staff to the requests worth a phone call: an address at a public webmail service, and an address
whose domain the school's earlier endorsements never used. The concern is decided when the request
is sent (against the endorsements before it) and stored; staff then confirm it or ask again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from common.dates import long_date

from .models import Application, Endorsement

Concern = Endorsement.DomainConcern

# Public webmail services: anyone can open an address there in a minute. Data, not rules: add a
# domain here when staff see a new one.
PUBLIC_WEBMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "aol.co.uk",
        "aol.com",
        "btinternet.com",
        "btopenworld.com",
        "fastmail.com",
        "gmail.com",
        "gmx.co.uk",
        "gmx.com",
        "googlemail.com",
        "hey.com",
        "hotmail.co.uk",
        "hotmail.com",
        "icloud.com",
        "live.co.uk",
        "live.com",
        "mac.com",
        "mail.com",
        "me.com",
        "msn.com",
        "ntlworld.com",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "sky.com",
        "talktalk.net",
        "tiscali.co.uk",
        "tutanota.com",
        "virginmedia.com",
        "yahoo.co.uk",
        "yahoo.com",
        "ymail.com",
        "zoho.com",
    }
)


def email_domain(address: str) -> str:
    """The domain of an address, as compared: lower case, no trailing dot."""
    return address.rsplit("@", 1)[-1].strip().lower().rstrip(".") if "@" in address else ""


def school_domains(*, urn: int, before: datetime | None = None) -> list[str]:
    """Domains the school's earlier endorsements came from, counting only those staff can rely
    on: endorsed, not replaced, and either raising no concern or confirmed by staff."""
    earlier = Endorsement.objects.filter(
        Q(employment__institution_id=urn) | Q(employment__isnull=True, application__institution_id=urn),
        decision=Endorsement.Decision.ENDORSED,
        replaced_at__isnull=True,
    ).filter(Q(domain_concern=Concern.NONE) | Q(domain_confirmed_at__isnull=False))
    if before is not None:
        earlier = earlier.filter(sent_at__lt=before)
    return sorted(set(earlier.exclude(endorser_domain="").values_list("endorser_domain", flat=True)))


def domain_concern(*, email: str, urn: int | None, before: datetime | None = None) -> str:
    """The concern about a request to ``email`` for the school ``urn`` (a Concern value)."""
    domain = email_domain(email)
    if domain in PUBLIC_WEBMAIL_DOMAINS:
        return Concern.WEBMAIL
    if urn is not None:
        known = school_domains(urn=urn, before=before)
        if known and domain not in known:
            return Concern.NEW_FOR_SCHOOL
    # The first endorsement we hold for a school has nothing to be compared with (decision 18).
    return Concern.NONE


def _school_urn(endorsement: Endorsement) -> int | None:
    if endorsement.employment_id:
        return endorsement.employment.institution_id
    return endorsement.application.institution_id


def _reason(*, concern: str, domain: str) -> str:
    if concern == Concern.WEBMAIL:
        return f"personal email address ({domain})"
    return f"new address for this school ({domain})"


def _summary(*, concern: str, domain: str, confirmed: bool) -> str:
    return (
        f"Checked by staff ({domain})" if confirmed else f"Check: {_reason(concern=concern, domain=domain)}"
    )


@dataclass(frozen=True)
class AddressCheck:
    """What staff are told about an endorsement's address, in words."""

    needs_checking: bool
    reason: str  # why, in a few words
    summary: str  # for lists
    message: str  # the sentences for the application and accept pages


def endorsement_check(endorsement: Endorsement) -> AddressCheck | None:
    """None when the address raised no concern."""
    if endorsement.domain_concern == Concern.NONE:
        return None
    domain = endorsement.endorser_domain or email_domain(endorsement.endorser_email)
    if endorsement.domain_concern == Concern.WEBMAIL:
        message = (
            f"The endorsement was sent to {endorsement.endorser_email}, an address at {domain}: a public "
            "webmail service anyone can sign up to, not a school or trust address."
        )
    else:
        urn = _school_urn(endorsement)
        known = school_domains(urn=urn, before=endorsement.sent_at) if urn is not None else []
        message = (
            f"The endorsement was sent to {endorsement.endorser_email}. Earlier endorsements from this "
            f"school came from {', '.join(known) or 'other addresses'}, never from {domain}."
        )
    confirmed = endorsement.domain_confirmed_at is not None
    if confirmed:
        who = endorsement.domain_confirmed_by or "A member of staff"
        message += f" {who} confirmed the endorser on {long_date(timezone.localdate(endorsement.domain_confirmed_at))}."
    else:
        message += (
            " Check with the school that its headteacher or line manager endorsed this application,"
            " then confirm the endorsement or ask for it again at the right address."
        )
    return AddressCheck(
        needs_checking=not confirmed,
        reason=_reason(concern=endorsement.domain_concern, domain=domain),
        summary=_summary(concern=endorsement.domain_concern, domain=domain, confirmed=confirmed),
        message=message,
    )


def current_endorsement(application: Application) -> Endorsement | None:
    """The application's latest endorsement request that staff have not replaced."""
    return (
        Endorsement.objects.filter(
            application=application, kind=Endorsement.Kind.APPLICATION, replaced_at__isnull=True
        )
        .select_related("employment", "application", "domain_confirmed_by")
        .order_by("-sent_at", "-pk")
        .first()
    )


def application_check(application: Application) -> AddressCheck | None:
    endorsement = current_endorsement(application)
    return endorsement_check(endorsement) if endorsement else None


def with_address_checks(queryset: QuerySet[Application]) -> QuerySet[Application]:
    """Each application with its current endorsement's domain, concern and confirmation, for
    staff lists and filters in one query."""
    current = Endorsement.objects.filter(
        application=OuterRef("pk"), kind=Endorsement.Kind.APPLICATION, replaced_at__isnull=True
    ).order_by("-sent_at", "-pk")
    return queryset.annotate(
        endorser_address_domain=Subquery(current.values("endorser_domain")[:1]),
        endorser_address_concern=Subquery(current.values("domain_concern")[:1]),
        endorser_address_confirmed_at=Subquery(current.values("domain_confirmed_at")[:1]),
    )


def address_summary(application: Application) -> str:
    """The list column, from ``with_address_checks``' annotations (no query per row)."""
    concern = getattr(application, "endorser_address_concern", None)
    domain = getattr(application, "endorser_address_domain", None) or ""
    if not concern:
        return domain or "–"
    confirmed = getattr(application, "endorser_address_confirmed_at", None) is not None
    return _summary(concern=concern, domain=domain, confirmed=confirmed)
