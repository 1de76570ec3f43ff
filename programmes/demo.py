"""Demo data for a newcomer: one hub, two cohorts, groups, ~50 participants, one account per role.

Idempotent: running it again changes nothing. Used by ``manage.py seed_demo`` (``make run``).
"""

from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from funding.models import FundingRound

from .models import Cohort, Course, Group, Hub, HubMembership, LeadProvider, Participant, Programme
from .services import course_create

DEMO_PASSWORD = "npq-demo-2026"  # noqa: S105 - printed for the demo; refused in production

FIRST_NAMES = [
    "Amira",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Femi",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Kiran",
    "Leah",
    "Mo",
    "Nia",
    "Owen",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tom",
    "Uma",
    "Vik",
    "Will",
    "Xena",
    "Yusuf",
]
SURNAMES = ["Patel", "Jones"]


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    name: str


DEMO_ACCOUNTS = [
    DemoAccount("participant", "alice@demo.npq-portal.test", "Alice Adeyemi"),
    DemoAccount("headteacher", "hana@demo.npq-portal.test", "Hana Hughes"),
    DemoAccount("hub staff (hub administrator)", "sam@demo.npq-portal.test", "Sam Singh"),
    DemoAccount("facilitator", "fran@demo.npq-portal.test", "Fran Fletcher"),
    DemoAccount("superuser", "admin@demo.npq-portal.test", "Ada Admin"),
]


def _account(email: str, name: str, *, staff: bool = False, superuser: bool = False) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"full_name": name, "is_staff": staff, "is_superuser": superuser}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    # Demo accounts are verified so that they can sign in at once.
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def seed_demo() -> list[DemoAccount]:
    provider, _ = LeadProvider.objects.get_or_create(name="Demo Lead Provider")
    hub, _ = Hub.objects.get_or_create(
        name="Demo Teaching School Hub",
        defaults={"lead_provider": provider, "contact_email": "npq@demo.npq-portal.test"},
    )
    accounts = {a.role: _account(a.email, a.name) for a in DEMO_ACCOUNTS[:2]}
    staff = _account("sam@demo.npq-portal.test", "Sam Singh", staff=True)
    facilitator = _account("fran@demo.npq-portal.test", "Fran Fletcher", staff=True)
    _account("admin@demo.npq-portal.test", "Ada Admin", staff=True, superuser=True)
    HubMembership.objects.get_or_create(hub=hub, user=staff, defaults={"role": "hub_admin"})
    HubMembership.objects.get_or_create(hub=hub, user=facilitator, defaults={"role": "facilitator"})

    round_2025 = FundingRound.objects.get(code="2025")
    cohorts = [
        _cohort(
            hub, "2025-autumn", date(2025, 10, 1), date(2025, 6, 1), date(2025, 9, 15), round_2025
        ),
        _cohort(
            hub, "2026-spring", date(2026, 2, 1), date(2025, 10, 1), date(2026, 1, 15), round_2025
        ),
    ]
    groups: list[Group] = []
    for cohort in cohorts:
        for code in ("NPQLT", "NPQSL", "NPQH"):
            course = Course.objects.filter(cohort=cohort, programme__code=code).first()
            if course is None:
                course = course_create(
                    cohort=cohort, programme=Programme.objects.get(code=code), funded_places=30
                )
            group, _ = Group.objects.get_or_create(
                course=course,
                name="Group A",
                defaults={"mode": Group.Mode.ONLINE, "capacity": 15},
            )
            group.facilitators.add(facilitator)
            groups.append(group)

    others = [
        _account(f"{first.lower()}.{surname.lower()}@demo.npq-portal.test", f"{first} {surname}")
        for surname in SURNAMES
        for first in FIRST_NAMES
    ][:49]
    people = [accounts["participant"], *others]
    for index, person in enumerate(people):
        group = groups[index % len(groups)]
        Participant.objects.get_or_create(
            user=person,
            course=group.course,
            defaults={"group": group, "trn": f"{1000001 + index}"},
        )
    return DEMO_ACCOUNTS


def _cohort(
    hub: Hub, identifier: str, start: date, opens: date, closes: date, funding_round: FundingRound
) -> Cohort:
    cohort, _ = Cohort.objects.get_or_create(
        hub=hub,
        identifier=identifier,
        defaults={
            "start_date": start,
            "registration_opens_on": opens,
            "registration_closes_on": closes,
            "funding_round": funding_round,
        },
    )
    return cohort
