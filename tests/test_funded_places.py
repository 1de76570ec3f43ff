"""Capped cohorts and funded places: accepting sets funded_place (yes only when eligible), places
not funded go beyond the cap and never use a funded place, "previously funded" follows DfE's
definition, staff change a funded place with a reason (audited), and the funding report counts
funded places used and available per course."""

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.funded_places import FundedPlaceError, funded_place_change, funded_places_used
from applications.models import Application, FundedPlaceChange
from applications.services import ApplicationError, application_accept
from funding.models import FundingDecision
from funding.selectors import funding_report
from funding.services import previous_funded_places
from tests.factories import ApplicationFactory, CourseFactory, GroupFactory, HubStaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Application.Status


def endorsed(course, *, eligible: bool, user=None) -> Application:
    """An endorsed application whose funding decision funds it or not."""
    application = ApplicationFactory(course=course, **({"user": user} if user else {}))
    application.funding_decision = FundingDecision.objects.create(
        user=application.user,
        course=course,
        funding_round=course.cohort.funding_round,
        facts={"course": course.programme.code},
        funded=eligible,
        reason="funded" if eligible else "ineligible_establishment_not_on_list",
        assessed_at=timezone.now(),
    )
    application.trn = "1234567"
    application.full_name = application.answers["full_name"]
    application.save()
    Application.objects.filter(pk=application.pk).update(status=S.ENDORSED)
    return Application.objects.get(pk=application.pk)


@pytest.fixture
def capped_course():
    course = CourseFactory(funded_places=1, cohort__funding_model="capped")
    GroupFactory(course=course, capacity=10, name="Group A")
    return course


@pytest.fixture
def staff(capped_course):
    return HubStaffFactory(hub=capped_course.cohort.hub)


def test_accepting_sets_the_funded_place_from_eligibility_and_records_it(capped_course, staff):
    eligible = application_accept(application=endorsed(capped_course, eligible=True), by=staff)
    not_eligible = application_accept(application=endorsed(capped_course, eligible=False), by=staff)
    assert (eligible.funded_place, not_eligible.funded_place) == (True, False)
    change = FundedPlaceChange.objects.get(application=eligible)
    assert (change.funded_place_before, change.funded_place, change.by, change.reason) == (
        None,
        True,
        staff,
        "Accepted",
    )
    # The applicant who is not eligible was accepted beyond the cap and uses no funded place.
    assert funded_places_used(capped_course) == 1


def test_a_full_course_accepts_beyond_its_funded_places_only_as_places_not_funded(capped_course, staff):
    application_accept(application=endorsed(capped_course, eligible=True), by=staff)
    second = endorsed(capped_course, eligible=True)
    with pytest.raises(
        ApplicationError, match=r"is full \(1 places\).*paid by the school or the participant"
    ):
        application_accept(application=second, by=staff)
    accepted = application_accept(application=second, by=staff, funded_place=False)
    assert (accepted.status, accepted.funded_place) == (S.ACCEPTED, False)
    assert funded_places_used(capped_course) == 1


def test_a_funded_place_is_refused_for_an_applicant_who_is_not_eligible(capped_course, staff):
    application = endorsed(capped_course, eligible=False)
    with pytest.raises(ApplicationError, match=r"not eligible for funding .*cannot be a funded place"):
        application_accept(application=application, by=staff, funded_place=True)
    application.refresh_from_db()
    assert application.status == S.ENDORSED and application.funded_place is None


def test_previously_funded_follows_dfes_definition(capped_course, staff):
    """An accepted place for the NPQ, eligible, whose funded place was not false."""
    user = UserFactory()
    paid_by_school = application_accept(
        application=endorsed(capped_course, eligible=True, user=user), by=staff, funded_place=False
    )
    later = CourseFactory(programme=capped_course.programme)
    assert previous_funded_places(user=user, exclude_course=later) == []
    funded_place_change(application=paid_by_school, funded_place=True, reason="Cap raised by DfE", by=staff)
    assert previous_funded_places(user=user, exclude_course=later) == [
        {"course": "NPQLT", "status": "active"}
    ]
    # Not eligible: never previously funded, whatever the place.
    other = UserFactory()
    application_accept(application=endorsed(capped_course, eligible=False, user=other), by=staff)
    assert previous_funded_places(user=other, exclude_course=later) == []


def test_staff_change_a_funded_place_with_a_reason_and_the_cap_holds(capped_course, staff):
    first = application_accept(application=endorsed(capped_course, eligible=True), by=staff)
    second = application_accept(
        application=endorsed(capped_course, eligible=True), by=staff, funded_place=False
    )
    with pytest.raises(FundedPlaceError, match="Enter the reason"):
        funded_place_change(application=first, funded_place=False, reason=" ", by=staff)
    with pytest.raises(FundedPlaceError, match="no funded places left"):
        funded_place_change(application=second, funded_place=True, reason="School cannot pay", by=staff)
    funded_place_change(application=first, funded_place=False, reason="School pays after all", by=staff)
    funded_place_change(application=second, funded_place=True, reason="School cannot pay", by=staff)
    assert [
        (c.application_id, c.funded_place_before, c.funded_place, c.reason)
        for c in FundedPlaceChange.objects.filter(reason__startswith="School").order_by("pk")
    ] == [(first.pk, True, False, "School pays after all"), (second.pk, False, True, "School cannot pay")]
    assert funded_places_used(capped_course) == 1


def test_the_funding_report_shows_funded_places_used_and_available(client, capped_course, staff):
    capped_course.funded_places = 3
    capped_course.save()
    application_accept(application=endorsed(capped_course, eligible=True), by=staff)
    application_accept(application=endorsed(capped_course, eligible=True), by=staff, funded_place=False)
    application_accept(application=endorsed(capped_course, eligible=False), by=staff)
    (row,) = funding_report(FundingDecision.objects.all())
    assert (
        row.funded_places,
        row.funded_places_used,
        row.funded_places_available,
        row.places_not_funded,
    ) == (
        3,
        1,
        2,
        2,
    )
    client.force_login(staff)
    html = client.get(reverse("admin:funding_fundingdecision_report")).content.decode()
    assert "Funded places used" in html and "<td>1 of 3</td><td>2</td><td>2</td>" in html
