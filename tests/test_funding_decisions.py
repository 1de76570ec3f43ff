"""Funding decisions stored per applicant and course: assess, once-per-NPQ, override, review, report."""

import pytest
from django.urls import reverse

from funding.models import FundingDecision, FundingReview, FundingRound
from funding.services import (
    OverrideError,
    facts_for_institution,
    funding_decision_assess,
    funding_decision_override,
)
from programmes.models import Programme
from programmes.services import participant_withdraw
from tests.factories import CohortFactory, CourseFactory, HubStaffFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHOOL = {"in_england": True, "work_setting": "school", "establishment_type_code": 28, "la_code": "886"}


@pytest.fixture
def course_2022():
    cohort = CohortFactory(funding_round=FundingRound.objects.get(code="2022-23"))
    return CourseFactory(cohort=cohort)


def test_assessment_takes_round_cohort_and_course_from_the_database(course_2022):
    user = UserFactory()
    decision = funding_decision_assess(
        user=user, course=course_2022, answers={**SCHOOL, "number_of_pupils": 300}
    )
    assert (decision.funded, decision.reason, decision.targeted_support_funding_gbp) == (True, "funded", 200)
    assert decision.facts["round"] == "2022-23" and decision.facts["course"] == "NPQLT"
    # An answer cannot smuggle in a different round.
    again = funding_decision_assess(user=user, course=course_2022, answers={**SCHOOL, "round": "2025"})
    assert again.pk == decision.pk and again.facts["round"] == "2022-23"


def test_zero_funded_cohort_is_unfunded(course_2022):
    course_2022.cohort.funding_model = "zero"
    course_2022.cohort.save()
    decision = funding_decision_assess(user=UserFactory(), course=course_2022, answers=SCHOOL)
    assert decision.reason == "unfunded_cohort"


def test_a_withdrawn_funded_place_blocks_funding_for_the_same_npq_again(course_2022):
    participant = ParticipantFactory(course=course_2022, group__course=course_2022)
    funding_decision_assess(user=participant.user, course=course_2022, answers=SCHOOL)
    participant_withdraw(participant=participant, reason="other")
    next_cohort = CohortFactory(
        hub=course_2022.cohort.hub, funding_round=FundingRound.objects.get(code="2022-23")
    )
    same_npq = CourseFactory(cohort=next_cohort)
    other_npq = CourseFactory(cohort=next_cohort, programme=Programme.objects.get(code="NPQSL"))
    assert (
        funding_decision_assess(user=participant.user, course=same_npq, answers=SCHOOL).reason
        == "previously_funded"
    )
    assert funding_decision_assess(user=participant.user, course=other_npq, answers=SCHOOL).reason == "funded"


def test_facts_for_an_institution_include_its_lists(course_2022):
    from funding.models import EligibilityListEntry, Institution

    school = Institution.objects.create(
        urn=137001,
        ukprn=10034111,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        number_of_pupils=1104,
    )
    round_2025 = FundingRound.objects.get(code="2025")
    EligibilityListEntry.objects.create(funding_round=round_2025, kind="pp50_school", identifier="137001")
    EligibilityListEntry.objects.create(funding_round=round_2025, kind="pp50_fe", identifier="10034111")
    EligibilityListEntry.objects.create(
        funding_round=FundingRound.objects.get(code="2022-23"), kind="rise", identifier="137001"
    )
    assert facts_for_institution(institution=school, funding_round=round_2025) == {
        "eligibility_lists": ["pp50_fe", "pp50_school"],
        "establishment_type_code": 28,
        "la_code": "886",
        "number_of_pupils": 1104,
    }


def test_override_needs_a_reason_and_is_audited(course_2022):
    staff = UserFactory()
    decision = funding_decision_assess(
        user=UserFactory(), course=course_2022, answers={**SCHOOL, "establishment_type_code": 11}
    )
    with pytest.raises(OverrideError):
        funding_decision_override(decision=decision, funded=True, reason=" ", by=staff)
    decision = funding_decision_override(decision=decision, funded=True, reason="Agreed with DfE", by=staff)
    assert (decision.effective_funded, decision.effective_reason) == (True, "marked_funded_by_policy")
    assert decision.reason == "ineligible_establishment_type"  # the automatic result is kept
    assert decision.history.latest().history_user == staff
    decision = funding_decision_override(
        decision=decision, funded=False, reason="Not a state school", by=staff
    )
    assert decision.effective_reason == "marked_ineligible_by_policy"
    decision = funding_decision_override(decision=decision, funded=None, reason="", by=staff)
    assert decision.effective_reason == "ineligible_establishment_type"


def test_review_cases_join_the_queue_and_leave_it_when_decided(course_2022):
    npqh = CourseFactory(cohort=course_2022.cohort, programme=Programme.objects.get(code="NPQH"))
    decision = funding_decision_assess(
        user=UserFactory(),
        course=npqh,
        answers={"in_england": True, "work_setting": "another_setting", "employment_type": "hospital_school"},
    )
    review = FundingReview.objects.get(decision=decision)
    assert review.status == "needs_review"
    funding_decision_override(
        decision=decision, funded=True, reason="Hospital school teacher", by=UserFactory()
    )
    review.refresh_from_db()
    assert review.status == "decision_made"


def test_funding_report_per_course_with_tsf_total_and_scoping(client, course_2022):
    hub = course_2022.cohort.hub
    for pupils in (100, 500, 900):
        funding_decision_assess(
            user=UserFactory(), course=course_2022, answers={**SCHOOL, "number_of_pupils": pupils}
        )
    funding_decision_assess(user=UserFactory(), course=course_2022, answers={**SCHOOL, "in_england": False})
    funding_decision_assess(
        user=UserFactory(),
        course=course_2022,
        answers={"in_england": True, "work_setting": "another_setting", "employment_type": "other"},
    )
    npqh = CourseFactory(cohort=course_2022.cohort, programme=Programme.objects.get(code="NPQH"))
    funding_decision_assess(
        user=UserFactory(),
        course=npqh,
        answers={
            "in_england": True,
            "work_setting": "another_setting",
            "employment_type": "young_offender_institution",
        },
    )
    other_hub_course = CourseFactory()
    funding_decision_assess(user=UserFactory(), course=other_hub_course, answers=SCHOOL)

    client.force_login(HubStaffFactory(hub=hub))
    response = client.get(reverse("admin:funding_fundingdecision_report"))
    assert response.status_code == 200
    rows = {(row.cohort, row.course): row for row, _ in response.context["rows"]}
    assert set(rows) == {(course_2022.cohort.identifier, "NPQLT"), (course_2022.cohort.identifier, "NPQH")}
    npqlt = rows[(course_2022.cohort.identifier, "NPQLT")]
    assert (npqlt.funded, npqlt.not_funded, npqlt.under_review, npqlt.targeted_support_gbp) == (3, 2, 0, 400)
    assert dict(npqlt.not_funded_by_reason) == {"not_in_england": 1, "ineligible_establishment_type": 1}
    assert rows[(course_2022.cohort.identifier, "NPQH")].under_review == 1
    assert '<th id="total-tsf">£400</th>' in response.content.decode()


def test_hub_staff_override_from_admin_and_cannot_see_other_hubs(client, course_2022):
    decision = funding_decision_assess(
        user=UserFactory(), course=course_2022, answers={**SCHOOL, "in_england": False}
    )
    stranger = funding_decision_assess(user=UserFactory(), course=CourseFactory(), answers=SCHOOL)
    sam = HubStaffFactory(hub=course_2022.cohort.hub)
    client.force_login(sam)
    url = reverse("admin:funding_fundingdecision_change", args=[decision.pk])
    client.post(url, {"override_funded": "True", "override_reason": "Teaches in England from January"})
    decision.refresh_from_db()
    assert decision.effective_reason == "marked_funded_by_policy" and decision.overridden_by == sam
    response = client.get(reverse("admin:funding_fundingdecision_change", args=[stranger.pk]))
    assert response.status_code == 302
    listed = client.get(reverse("admin:funding_fundingdecision_changelist")).context["cl"].result_list
    assert list(listed) == [decision]
    assert FundingDecision.objects.get(pk=stranger.pk).override_funded is None


def test_a_superuser_can_open_the_page_to_add_a_funding_round(client):
    # The 'rules in force' of an unsaved round with no rules used to raise (a 500).

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/funding/fundinground/add/")
    assert response.status_code == 200
    assert "Shown once the round is saved." in response.content.decode()
