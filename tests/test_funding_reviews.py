"""The funding review queue as DfE works it: needs review -> awaiting information -> decision
made, or re-register; each step with its note, who and when; the queue filtered by status and by
time in the queue, and scoped to the hub."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding.models import FundingDecision, FundingReview, FundingReviewUpdate
from funding.reviews import ReviewError, funding_review_update
from funding.services import funding_decision_assess, funding_decision_override
from tests.factories import CourseFactory, HubStaffFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = FundingReview.Status
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSPITAL_SCHOOL = {
    "in_england": True,
    "work_setting": "another_setting",
    "employment_type": "hospital_school",
}
# The read-only history's formset, as the page sends it.
NO_NEW_STEPS = {"updates-TOTAL_FORMS": "0", "updates-INITIAL_FORMS": "0"}
ACADEMY = {"in_england": True, "work_setting": "school", "establishment_type_code": 28, "la_code": "886"}


@pytest.fixture
def course():
    from programmes.models import Programme

    return CourseFactory(programme=Programme.objects.get(code="NPQH"))


def review_for(course, *, at: datetime = START) -> FundingReview:
    with time_machine.travel(at, tick=False):
        decision = funding_decision_assess(user=UserFactory(), course=course, answers=HOSPITAL_SCHOOL)
    assert decision.subject_to_review, decision.reason
    return decision.review


def test_each_step_keeps_its_status_note_who_and_when(course):
    review = review_for(course)
    assert (review.status, review.opened_at) == (Status.NEEDS_REVIEW, START)
    sam = HubStaffFactory(hub=course.cohort.hub)
    with time_machine.travel(START + timedelta(days=1), tick=False):
        funding_review_update(
            review=review, status=Status.AWAITING_INFORMATION, note="Asked the head for the contract.", by=sam
        )
    with time_machine.travel(START + timedelta(days=3), tick=False):
        funding_review_update(review=review, status=None, note="Head replied: contract on its way.", by=sam)
        funding_review_update(
            review=review, status=Status.DECISION_MADE, note="Employed by the school.", by=sam
        )
    review.refresh_from_db()
    assert (review.status, review.status_changed_by, review.status_changed_at) == (
        Status.DECISION_MADE,
        sam,
        START + timedelta(days=3),
    )
    assert [(u.from_status, u.to_status, u.note, u.by, u.at) for u in review.updates.order_by("pk")] == [
        (
            "needs_review",
            "awaiting_information",
            "Asked the head for the contract.",
            sam,
            START + timedelta(days=1),
        ),
        ("awaiting_information", "", "Head replied: contract on its way.", sam, START + timedelta(days=3)),
        ("awaiting_information", "decision_made", "Employed by the school.", sam, START + timedelta(days=3)),
    ]


def test_a_change_of_status_needs_a_note_and_nothing_at_all_is_refused(course):
    review = review_for(course)
    with pytest.raises(ReviewError, match="Enter a note saying why the case is now “Awaiting information”"):
        funding_review_update(review=review, status=Status.AWAITING_INFORMATION, note=" ", by=None)
    with pytest.raises(ReviewError, match="Choose a different status or enter a note"):
        funding_review_update(review=review, status=Status.NEEDS_REVIEW, note="", by=None)
    with pytest.raises(ReviewError, match="Choose a review status"):
        funding_review_update(review=review, status="approved", note="x", by=None)
    assert not FundingReviewUpdate.objects.exists()


def test_registering_again_takes_the_case_back_or_decides_it(course):
    review = review_for(course)
    decision = review.decision
    funding_review_update(
        review=review, status=Status.REREGISTER, note="Works at the academy, not a hospital.", by=None
    )
    # Registers again, still from a hospital school: back in the queue.
    funding_decision_assess(user=decision.user, course=course, answers=HOSPITAL_SCHOOL)
    review.refresh_from_db()
    assert review.status == Status.NEEDS_REVIEW
    funding_review_update(
        review=review, status=Status.REREGISTER, note="Please register with your school.", by=None
    )
    # Registers again from the academy: the rules decide; the case is closed with a note.
    funding_decision_assess(user=decision.user, course=course, answers=ACADEMY)
    review.refresh_from_db()
    assert review.status == Status.DECISION_MADE
    assert review.updates.order_by("-pk").first().note.startswith("Registered again: decided by the rules")


def test_deciding_by_policy_makes_the_decision_and_records_the_step(course):
    review = review_for(course)
    sam = HubStaffFactory(hub=course.cohort.hub)
    funding_decision_override(
        decision=review.decision, funded=True, reason="Teaches in our partner school", by=sam
    )
    review.refresh_from_db()
    step = review.updates.get()
    assert (review.status, step.to_status, step.by) == (Status.DECISION_MADE, "decision_made", sam)
    assert step.note == "Funded by policy: Teaches in our partner school"


def test_the_queue_filters_by_status_and_time_in_the_queue_and_shows_only_the_hub(client, course):
    old = review_for(course, at=START - timedelta(days=30))
    recent = review_for(course, at=START - timedelta(days=2))
    waiting = review_for(course, at=START - timedelta(days=10))
    funding_review_update(
        review=waiting, status=Status.AWAITING_INFORMATION, note="Asked for proof.", by=None
    )
    theirs = review_for(CourseFactory(programme=course.programme))
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:funding_fundingreview_changelist")

    def listed(**params):
        with time_machine.travel(START, tick=False):
            response = client.get(url, params)
        return {r.pk for r in response.context["cl"].result_list}

    assert listed() == {old.pk, recent.pk, waiting.pk}  # not the other hub's
    assert listed(status__exact="awaiting_information") == {waiting.pk}
    assert listed(age="week") == {recent.pk}
    assert listed(age="2weeks") == {waiting.pk}
    assert listed(age="older") == {old.pk}
    assert listed(status__exact="needs_review", age="older") == {old.pk}
    with time_machine.travel(START, tick=False):
        html = client.get(url).content.decode()
    assert "30 days" not in html and "4 weeks" in html and "Awaiting information" in html
    other = reverse("admin:funding_fundingreview_change", args=[theirs.pk])
    assert client.get(other).status_code == 302  # admin's answer for a row out of scope
    assert client.post(other, {"status": "decision_made", "note": "x"}).status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.status == Status.NEEDS_REVIEW


def test_the_review_page_shows_errors_next_to_the_note_and_records_the_step(client, course):
    review = review_for(course)
    sam = HubStaffFactory(hub=course.cohort.hub)
    client.force_login(sam)
    url = reverse("admin:funding_fundingreview_change", args=[review.pk])
    response = client.post(url, {"status": "reregister", "note": "", **NO_NEW_STEPS})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["note"] == [
        "Enter a note saying why the case is now “Re-register”"
    ]
    response = client.post(url, {"status": "reregister", "note": "Wrong setting chosen.", **NO_NEW_STEPS})
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.status_changed_by) == (Status.REREGISTER, sam)
    page = client.get(url).content.decode()
    assert "Needs review to Re-register" in page and "Wrong setting chosen." in page


def test_the_queue_costs_the_same_queries_with_2_or_12_cases(client, course):
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:funding_fundingreview_changelist")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for _ in range(2):
        review_for(course)
    few = count()
    for _ in range(10):
        review_for(course)
    assert count() == few
    assert FundingDecision.objects.count() == 12
