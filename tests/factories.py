"""factory_boy factories for the portal's models."""

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from engagement.models import Activity
from funding.models import FundingRound
from programmes.models import Cohort, Course, Group, Hub, HubMembership, LeadProvider, Participant, Programme
from programmes.services import delivery_end_for, hub_membership_add, participant_enrol

LONDON = ZoneInfo("Europe/London")

PASSWORD = "correct-horse-battery-staple"
# Staff accounts made by the factories have an authenticator app with this secret.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(user=None) -> str:
    """The authenticator app's code for now (and forget that it was used, so a test may sign the
    same person in twice within one 30-second period)."""
    code = format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))
    if user is not None:
        cache.delete(f"allauth.mfa.totp.used?user={user.pk}&code={code}")
    return code


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@school.example")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """Verified by default, as a user who finished sign-up would be."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def two_factor(self, create, extracted, **kwargs):
        """Staff have set up their authenticator app, as the portal requires (two_factor=False: not yet)."""
        if create and extracted is not False and (self.is_staff or self.is_superuser):
            TOTP.activate(self, TOTP_SECRET)


class LeadProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadProvider
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Lead provider {n}")


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub

    name = factory.Sequence(lambda n: f"Hub {n}")
    lead_provider = factory.SubFactory(LeadProviderFactory)


class HubMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HubMembership

    hub = factory.SubFactory(HubFactory)
    user = factory.SubFactory(UserFactory, is_staff=True)
    role = HubMembership.Role.HUB_ADMIN


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    hub = factory.SubFactory(HubFactory)
    identifier = factory.Sequence(lambda n: f"{2025 + n}-autumn")
    start_date = date(2025, 10, 1)
    registration_opens_on = date(2025, 6, 1)
    registration_closes_on = date(2025, 9, 15)
    funding_round = factory.LazyFunction(lambda: FundingRound.objects.get(code="2025"))


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    cohort = factory.SubFactory(CohortFactory)
    programme = factory.LazyFunction(lambda: Programme.objects.get(code="NPQLT"))
    delivery_start = factory.SelfAttribute("cohort.start_date")
    delivery_end = factory.LazyAttribute(
        lambda o: delivery_end_for(programme=o.programme, delivery_start=o.delivery_start)
    )
    funded_places = 30


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"Group {n}")
    capacity = 20


class ParticipantFactory(factory.django.DjangoModelFactory):
    """Enrols through the service, so that group places are counted as in real use."""

    class Meta:
        model = Participant

    user = factory.SubFactory(UserFactory)
    group = factory.SubFactory(GroupFactory)
    course = factory.SelfAttribute("group.course")
    trn = factory.Sequence(lambda n: f"{2000000 + n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return participant_enrol(**kwargs)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    group = factory.SubFactory(GroupFactory)
    course = factory.SelfAttribute("group.course")
    code = factory.Sequence(lambda n: f"activity-{n}")
    kind = Activity.Kind.SEMINAR
    title = factory.Sequence(lambda n: f"Seminar {n}")
    starts_at = factory.LazyFunction(lambda: datetime(2025, 11, 5, 16, 0, tzinfo=LONDON))
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at + timedelta(hours=1, minutes=30) if o.starts_at else None
    )
    due_on = None


class HubStaffFactory(UserFactory):
    """A member of a hub's staff, with the role's permissions, through the service."""

    is_staff = True

    @factory.post_generation
    def hub(self, create, extracted, **kwargs):
        if create and extracted is not None:
            role = kwargs.get("role", HubMembership.Role.HUB_ADMIN)
            hub_membership_add(hub=extracted, user=self, role=role)


def northfield_schools() -> tuple:
    """Two open Kent schools from GIAS that workplace searches find: Northfield Academy (URN
    137001, an academy) and Northfield Primary School (URN 137002, community)."""
    from funding.models import Institution

    academy = Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        postcode="ME14 2LR",
        status="Open",
    )
    primary = Institution.objects.create(
        urn=137002,
        name="Northfield Primary School",
        establishment_type_code=1,
        la_code="886",
        postcode="ME14 2LS",
        status="Open",
    )
    return academy, primary


def complete_answers(course, **overrides) -> dict:
    """Answers of a finished application form for a teacher at a state school."""
    return {
        "in_england": "yes",
        "work_setting": "school",
        "workplace": "137001",
        "urn": 137001,
        "workplace_name": "Northfield Academy",
        "role": "Head of maths",
        "course": course.pk,
        "course_code": course.programme.code,
        "funding_seen": True,
        "funded": True,
        "trn": "1234567",
        "full_name": "Alice Adeyemi",
        "date_of_birth": "1985-03-27",
        "endorser_name": "Hana Hughes",
        "endorser_email": "hana@school.example",
        "mentor_name": "Mo Mentor",
        "mentor_email": "mo@school.example",
        "support_requested": "no",
        "consent": True,
        **overrides,
    }


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A draft with every answer given (ready to submit)."""

    class Meta:
        model = "applications.Application"

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    cohort = factory.SelfAttribute("course.cohort")
    started_at = factory.LazyFunction(timezone.now)
    answers = factory.LazyAttribute(lambda o: complete_answers(o.course))
