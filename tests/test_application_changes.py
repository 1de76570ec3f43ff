"""Changing answers from check your answers, and applying for an NPQ already held.

A change keeps every answer still valid, asks only the questions it made necessary, then
returns to check your answers; the funding decision is made again. An applicant with a place
on an NPQ in an intake cannot apply for it again there (nor is their headteacher asked).
"""

from datetime import date

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from applications.models import Application, Endorsement
from applications.services import PlaceAlreadyHeld, application_submit
from funding.models import Institution
from programmes.models import Programme
from programmes.services import participant_withdraw
from tests.factories import (
    ApplicationFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
TODAY = date(2025, 7, 1)

# What each page is answered with (the answers the applicant gives first).
ANSWERS = {
    "in-england": {"in_england": "yes"},
    "work-setting": {"work_setting": "school"},
    "workplace": {"workplace": "137001"},
    "role": {"role": "SENCO"},
    "senco": {"senco_in_role_since": "9 2023"},
    "funding": {"funding_seen": "True"},
    "payment": {"payment": "school"},
    "trn": {"trn": "1234567"},
    "identity": {"full_name": "Alice Adeyemi", "date_of_birth": "27 3 1985"},
    "endorser": {"endorser_name": "Hana Hughes", "endorser_email": "hana@school.example"},
    "mentor": {"mentor_name": "Mo Mentor", "mentor_email": "mo@school.example"},
    "support": {"support_requested": "no"},
    "consent": {"consent": "on"},
    "headteacher": {"headteacher": "yes", "years_as_headteacher": "2"},
    "npqh": {"npqh_status": "completed", "withdrew_from_ehco_before": "no"},
    "employment": {"employment_type": "hospital_school"},
}
KEPT = ("workplace_name", "role", "trn", "full_name", "date_of_birth", "endorser_email", "mentor_email")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def northfield():
    return Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        postcode="ME14 2LR",
        status="Open",
    )


@pytest.fixture
def cohort(northfield):
    cohort = CohortFactory(identifier="2025-autumn")
    for code in ("NPQSENCO", "NPQLPM", "NPQLT", "NPQH", "EHCO"):
        CourseFactory(cohort=cohort, programme=Programme.objects.get(code=code))
    return cohort


def course(cohort, code):
    return cohort.courses.get(programme__code=code)


def step_url(application, step):
    return reverse("application_step", args=[application.pk, step])


def post(client, application, step, data):
    return client.post(step_url(application, step), data)


def answer_until_check(client, application, location, answers=ANSWERS) -> list[str]:
    """Answer each page the journey goes to until check your answers; the steps asked."""
    check = reverse("application_check", args=[application.pk])
    asked = []
    while location != check:
        step = location.rsplit("/", 1)[1]
        asked.append(step)
        assert len(asked) < 25, asked
        response = client.post(location, answers[step])
        assert response.status_code == 302, (step, response.content.decode()[:2000])
        location = response["Location"]
    return asked


@pytest.fixture
def alice(client):
    user = UserFactory(email="alice@school.example")
    client.force_login(user)
    return user


@pytest.fixture
def complete(client, cohort, alice) -> Application:
    """Alice's application for the NPQ for SENCOs, every question answered."""
    location = client.post(reverse("apply"), {"cohort": cohort.pk})["Location"]
    application = Application.objects.get()
    answers = {**ANSWERS, "course": {"course": course(cohort, "NPQSENCO").pk}}
    asked = answer_until_check(client, application, location, answers)
    assert "payment" not in asked  # funded
    application.refresh_from_db()
    return application


def change(client, application, step, data):
    response = post(client, application, step, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    application.refresh_from_db()
    return response["Location"]


def test_changing_the_role_keeps_every_answer_and_returns_to_check(client, complete):
    before = dict(complete.answers)
    check = client.get(reverse("application_check", args=[complete.pk]))
    assert check.status_code == 200
    role_page = client.get(step_url(complete, "role")).content.decode()
    assert f'href="{reverse("application_check", args=[complete.pk])}" class="govuk-back-link"' in role_page
    assert change(client, complete, "role", {"role": "Deputy headteacher"}) == reverse(
        "application_check", args=[complete.pk]
    )
    assert complete.answers == {**before, "role": "Deputy headteacher"}
    page = client.get(reverse("application_check", args=[complete.pk])).content.decode()
    for shown in ("Deputy headteacher", "1234567", "Alice Adeyemi", "27 March 1985", "Northfield Academy"):
        assert shown in page
    assert "hana@school.example" in page and "September 2023" in page and "Agreed" in page


def test_saving_any_page_unchanged_keeps_everything(client, complete, cohort):
    before = dict(complete.answers)
    again = {**ANSWERS, "course": {"course": course(cohort, "NPQSENCO").pk}}
    check = reverse("application_check", args=[complete.pk])
    for step in ("in-england", "work-setting", "workplace", "role", "course", "senco", "funding", "trn"):
        assert change(client, complete, step, again[step]) == check, step
    for step in ("identity", "endorser", "mentor", "support", "consent"):
        assert change(client, complete, step, again[step]) == check, step
    assert complete.answers == before
    assert client.get(check).status_code == 200  # not sent back to the NPQ question


def test_a_date_page_shows_the_date_as_typed_and_saving_it_unchanged_keeps_it(client, complete):
    """A stored date (kept as 1985-03-27) is shown back as it is typed, so that pressing
    continue on the page as shown is accepted."""
    import re

    check = reverse("application_check", args=[complete.pk])
    for step, field, shown in (
        ("identity", "date_of_birth", "27 3 1985"),
        ("senco", "senco_in_role_since", "9 2023"),
    ):
        html = client.get(step_url(complete, step)).content.decode()
        value = re.search(rf'name="{field}"[^>]*value="([^"]*)"', html) or re.search(
            rf'value="([^"]*)"[^>]*name="{field}"', html
        )
        assert value and value.group(1) == shown, (step, html[:200])
        page_as_shown = {**ANSWERS[step], field: value.group(1)}
        assert change(client, complete, step, page_as_shown) == check, step


def test_a_new_npq_with_the_same_funding_and_no_questions_of_its_own_goes_straight_back(
    client, complete, cohort
):
    before = dict(complete.answers)
    npqlpm = course(cohort, "NPQLPM")
    assert change(client, complete, "course", {"course": npqlpm.pk}) == reverse(
        "application_check", args=[complete.pk]
    )
    assert complete.course == npqlpm and complete.answers["course_code"] == "NPQLPM"
    assert "senco_in_role_since" not in complete.answers  # no longer on the route
    for name in KEPT:
        assert complete.answers[name] == before[name]
    page = client.get(reverse("application_check", args=[complete.pk])).content.decode()
    assert "When did you become a SENCO?" not in page and "Leading Primary Mathematics" in page


def test_a_new_npq_that_is_not_funded_shows_the_decision_and_asks_how_it_is_paid(client, complete, cohort):
    before = dict(complete.answers)
    location = change(client, complete, "course", {"course": course(cohort, "NPQLT").pk})
    assert location == step_url(complete, "funding")
    assert complete.answers["funded"] is False  # NPQLT in 2025 needs the eligibility list
    page = client.get(location).content.decode()
    assert 'data-reason="ineligible_establishment_not_on_list"' in page
    assert answer_until_check(client, complete, location) == ["funding", "payment"]
    complete.refresh_from_db()
    assert complete.answers["payment"] == "school"
    for name in KEPT:
        assert complete.answers[name] == before[name]


def test_a_new_npq_asks_its_own_questions_then_returns_to_check(client, complete, cohort):
    before = dict(complete.answers)
    location = change(client, complete, "course", {"course": course(cohort, "EHCO").pk})
    assert location == step_url(complete, "headteacher")
    # Until they are answered, check your answers sends the applicant to them (not to the NPQ).
    assert client.get(reverse("application_check", args=[complete.pk]))["Location"] == location
    assert answer_until_check(client, complete, location) == ["headteacher", "npqh", "funding"]
    complete.refresh_from_db()
    assert complete.answers["funding_reason"] == "funded_ehco"
    assert "senco_in_role_since" not in complete.answers
    for name in KEPT:
        assert complete.answers[name] == before[name]


def test_an_npq_endorsed_by_the_line_manager_asks_who_that_is(client, complete, cohort):
    location = change(client, complete, "course", {"course": course(cohort, "NPQH").pk})
    assert location == step_url(complete, "endorser")
    page = client.get(location).content.decode()
    assert "Who is your line manager?" in page and 'value="hana@school.example"' in page  # prefilled
    line_manager = {"endorser": {"endorser_name": "Lee Line", "endorser_email": "lee@school.example"}}
    assert answer_until_check(client, complete, location, line_manager) == ["endorser"]
    complete.refresh_from_db()
    assert complete.answers["endorser_email"] == "lee@school.example"
    assert complete.answers["mentor_email"] == "mo@school.example"


def test_a_new_work_setting_asks_its_questions_and_recomputes_funding(client, complete):
    before = dict(complete.answers)
    location = change(client, complete, "work-setting", {"work_setting": "another_setting"})
    assert location == step_url(complete, "employment")
    # A hospital school applying for NPQSENCO goes to review: the new decision is shown.
    assert answer_until_check(client, complete, location) == ["employment", "funding", "payment"]
    complete.refresh_from_db()
    assert complete.answers["funding_reason"] == "subject_to_review"
    assert "urn" not in complete.answers and complete.answers["senco_in_role_since"] == "2023-09-01"
    for name in ("role", "trn", "full_name", "endorser_email", "mentor_email"):
        assert complete.answers[name] == before[name]
    # And back to a school: the workplace search is asked again.
    location = change(client, complete, "work-setting", {"work_setting": "school"})
    assert location == step_url(complete, "workplace")
    assert answer_until_check(client, complete, location) == ["workplace", "funding"]
    complete.refresh_from_db()
    assert "employment_type" not in complete.answers and complete.answers["urn"] == 137001


def test_submitting_after_changes_uses_the_answers_on_the_route(client, complete, cohort):
    change(client, complete, "course", {"course": course(cohort, "NPQLPM").pk})
    client.post(reverse("application_check", args=[complete.pk]))
    complete.refresh_from_db()
    assert complete.status == "awaiting_endorsement" and complete.course.programme.code == "NPQLPM"
    assert complete.funding_decision.reason == "funded"


# --- An NPQ already held -----------------------------------------------------------------------------


def enrol(user, cohort_identifier, code):
    other_hub_cohort = CohortFactory(identifier=cohort_identifier)
    held = CourseFactory(cohort=other_hub_cohort, programme=Programme.objects.get(code=code))
    return ParticipantFactory(user=user, group=GroupFactory(course=held))


def test_submitting_for_an_npq_already_held_in_the_intake_is_refused_with_a_link(
    client, complete, alice, django_capture_on_commit_callbacks
):
    participant = enrol(alice, "2025-autumn", "NPQSENCO")  # accepted at another hub
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("application_check", args=[complete.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: " in html and 'class="govuk-error-summary"' in html
    assert "You already have a place on NPQ for Special Educational Needs Co-ordinators" in html
    assert f'href="{reverse("enrolment", args=[participant.pk])}"' in html
    complete.refresh_from_db()
    assert complete.status == "draft" and not Endorsement.objects.exists() and not mail.outbox
    assert client.get(reverse("enrolment", args=[participant.pk])).status_code == 200


def test_the_service_refuses_a_second_application_for_a_place_held(alice, northfield):
    cohort = CohortFactory(identifier="2026-spring")
    npqsl = CourseFactory(cohort=cohort, programme=Programme.objects.get(code="NPQSL"))
    participant = enrol(alice, "2026-spring", "NPQSL")
    application = ApplicationFactory(user=alice, course=npqsl)
    with pytest.raises(PlaceAlreadyHeld) as refused:
        application_submit(application=application, by=alice)
    assert refused.value.participant == participant
    # Another NPQ of the intake, or the same NPQ in another intake, can be applied for.
    other_hub = CohortFactory(identifier="2026-spring")
    other_npq = ApplicationFactory(user=alice, course=CourseFactory(cohort=other_hub))
    assert application_submit(application=other_npq, by=alice).status == "awaiting_endorsement"
    later = CourseFactory(cohort=CohortFactory(identifier="2027-spring"), programme=npqsl.programme)
    assert application_submit(application=ApplicationFactory(user=alice, course=later), by=alice)


def test_a_place_given_up_does_not_stop_a_new_application(alice, northfield):
    cohort = CohortFactory(identifier="2026-spring")
    npqsl = CourseFactory(cohort=cohort, programme=Programme.objects.get(code="NPQSL"))
    participant = enrol(alice, "2026-spring", "NPQSL")
    participant_withdraw(participant=participant, reason="personal-reason-other")
    application = application_submit(application=ApplicationFactory(user=alice, course=npqsl), by=alice)
    assert application.status == "awaiting_endorsement"


def test_the_npq_question_refuses_an_npq_already_held(client, cohort, alice):
    participant = enrol(alice, "2025-autumn", "NPQH")
    location = client.post(reverse("apply"), {"cohort": cohort.pk})["Location"]
    application = Application.objects.get()
    for step in ("in-england", "work-setting", "workplace", "role"):
        location = client.post(location, ANSWERS[step])["Location"]
    assert location == step_url(application, "course")
    page = client.get(location).content.decode()
    assert 'id="places-held"' in page and reverse("enrolment", args=[participant.pk]) in page
    response = client.post(location, {"course": course(cohort, "NPQH").pk})
    assert response.status_code == 200
    assert "You already have a place on Headship in this intake" in response.content.decode()
    assert "course" not in Application.objects.get().answers
    assert client.post(location, {"course": course(cohort, "NPQLT").pk}).status_code == 302


def test_a_cohort_whose_every_npq_is_held_cannot_be_chosen(client, alice):
    cohort = CohortFactory(identifier="2025-autumn")
    CourseFactory(cohort=cohort, programme=Programme.objects.get(code="NPQSL"))
    enrol(alice, "2025-autumn", "NPQSL")
    response = client.post(reverse("apply"), {"cohort": cohort.pk})
    assert response.status_code == 200
    assert "You already have a place on every NPQ this cohort offers" in response.content.decode()
    assert not Application.objects.exists()
