"""Demo data for a newcomer: one hub, two cohorts, groups, ~50 participants, one account per role.

Idempotent: running it again changes nothing. Used by ``manage.py seed_demo`` (``make run``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import Activity
from funding.models import FundingRound
from programmes.models import (
    Cohort,
    Course,
    Group,
    Hub,
    HubMembership,
    LeadProvider,
    Participant,
    Programme,
)
from programmes.services import course_create, hub_membership_add, participant_enrol

LONDON = ZoneInfo("Europe/London")

DEMO_PASSWORD = "npq-demo-2026"  # noqa: S105 - printed for the demo; refused in production
# Demo staff have an authenticator app set up with this published key (staff must use two
# factors); `manage.py seed_demo --code` prints its current code for someone without an app.
DEMO_TOTP_SECRET = "NPQDEMOPORTALSTAFFTWOFACTORKEY22"  # noqa: S105 - demo only, as above

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
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    if staff and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
    return user


def demo_totp_code() -> str:
    """The code a demo staff member's authenticator app would show now."""
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(timezone.now().timestamp()) // 30))


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
    hub_membership_add(hub=hub, user=staff, role=HubMembership.Role.HUB_ADMIN)
    hub_membership_add(hub=hub, user=facilitator, role=HubMembership.Role.FACILITATOR)

    round_2025 = FundingRound.objects.get(code="2025")
    today = timezone.localdate()
    # One cohort under way, and the next one open for registration, whatever today is.
    current_start, next_start = today - timedelta(days=60), today + timedelta(days=70)
    current = _cohort(
        hub,
        _identifier(current_start),
        current_start,
        current_start - timedelta(days=150),
        current_start - timedelta(days=14),
        round_2025,
    )
    upcoming = _cohort(
        hub,
        _identifier(next_start),
        next_start,
        today - timedelta(days=30),
        today + timedelta(days=45),
        round_2025,
    )
    groups: list[Group] = []
    for cohort in (current, upcoming):
        for code in ("NPQLT", "NPQSL", "NPQH"):
            course = Course.objects.filter(cohort=cohort, programme__code=code).first()
            if course is None:
                course = course_create(
                    cohort=cohort, programme=Programme.objects.get(code=code), funded_places=30
                )
            group, _ = Group.objects.get_or_create(
                course=course,
                name="Group A",
                defaults={"mode": Group.Mode.ONLINE, "capacity": 20},
            )
            group.facilitators.add(facilitator)
            _activities(group)
            groups.append(group)

    others = [
        _account(f"{first.lower()}.{surname.lower()}@demo.npq-portal.test", f"{first} {surname}")
        for surname in SURNAMES
        for first in FIRST_NAMES
    ][:49]
    people = [accounts["participant"], *others]
    current_groups = [g for g in groups if g.course.cohort_id == current.pk]
    for index, person in enumerate(people):
        group = current_groups[index % len(current_groups)]
        if not Participant.objects.filter(user=person, course=group.course).exists():
            participant_enrol(
                user=person,
                course=group.course,
                group=group,
                trn=f"{1000001 + index}",
                mentor_name="Mo Mentor",
                mentor_email="mo@demo.npq-portal.test",
            )
    _reference_data(round_2025)
    _applications(
        upcoming, applicants=[accounts["participant"], *others[:3]], endorser=accounts["headteacher"]
    )
    return DEMO_ACCOUNTS


def _identifier(start: date) -> str:
    return f"{start.year}-{'spring' if start.month < 7 else 'autumn'}"


def _reference_data(funding_round: FundingRound) -> None:
    """The small GIAS sample, and one school on the 2025 pupil premium list."""
    from funding.imports import import_gias
    from funding.models import EligibilityListEntry

    import_gias((settings.BASE_DIR / "tests" / "data" / "gias_sample.csv").read_bytes())
    EligibilityListEntry.objects.get_or_create(
        funding_round=funding_round, kind="pp50_school", identifier="137001"
    )


def _applications(cohort: Cohort, *, applicants: list[User], endorser: User) -> None:
    """Alice's application waits for Hana's endorsement; three endorsed ones wait for the hub."""
    from applications.models import Application
    from applications.services import application_submit, endorsement_answer

    npqsl = Course.objects.get(cohort=cohort, programme__code="NPQSL")
    npqh = Course.objects.get(cohort=cohort, programme__code="NPQH")
    for index, applicant in enumerate(applicants):
        if Application.objects.filter(user=applicant, cohort=cohort).exists():
            continue
        course = npqsl if index == 0 else npqh
        application = Application.objects.create(
            user=applicant,
            cohort=cohort,
            course=course,
            started_at=timezone.now(),
            answers={
                "in_england": "yes",
                "work_setting": "school",
                "workplace": "137001",
                "urn": 137001,
                "workplace_name": "Northfield Academy",
                "role": "Assistant headteacher",
                "course": course.pk,
                "course_code": course.programme.code,
                "funding_seen": True,
                "funded": True,
                "trn": f"{2100001 + index}",
                "full_name": applicant.full_name,
                "date_of_birth": "1984-05-02",
                "endorser_name": endorser.full_name,
                "endorser_email": endorser.email,
                "mentor_name": "Mo Mentor",
                "mentor_email": "mo@demo.npq-portal.test",
                "support_requested": "no",
                "consent": True,
            },
        )
        application_submit(application=application, by=applicant)
        if index > 0:
            endorsement_answer(endorsement=application.endorsements.get(), user=endorser, endorse=True)


# (code, kind, title, days after delivery start, is a session)
DEMO_ACTIVITIES = [
    ("induction", Activity.Kind.INDUCTION_CONFERENCE, "Induction conference", 0, True),
    ("diagnostic-1", Activity.Kind.DIAGNOSTIC, "Module 1 diagnostic", 14, False),
    ("seminar-1", Activity.Kind.SEMINAR, "Module 1 seminar", 28, True),
    ("study-unit-1", Activity.Kind.ONLINE_STUDY_UNIT, "Module 1 online study", 42, False),
    ("reflection-1", Activity.Kind.FORMATIVE_REFLECTION, "Module 1 reflection", 56, False),
    ("seminar-2", Activity.Kind.SEMINAR, "Module 2 seminar", 84, True),
]


def _activities(group: Group) -> None:
    start = group.course.delivery_start
    for code, kind, title, days, session in DEMO_ACTIVITIES:
        day = start + timedelta(days=days)
        Activity.objects.get_or_create(
            course=group.course,
            code=f"{code}-{group.pk}",
            defaults={
                "group": group,
                "kind": kind,
                "title": title,
                "starts_at": datetime.combine(day, time(16, 0), tzinfo=LONDON) if session else None,
                "ends_at": datetime.combine(day, time(17, 30), tzinfo=LONDON) if session else None,
                "due_on": None if session else day,
                # The diagnostic and reflection tasks together weigh as much as everything else.
                "weight": 2 if kind in {Activity.Kind.DIAGNOSTIC, Activity.Kind.FORMATIVE_REFLECTION} else 1,
            },
        )


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
