"""The application form: one question per page, saved as you go, errors in the GOV.UK pattern."""

from datetime import date

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from applications.forms import normalise_trn
from applications.models import Application
from applications.wizard import next_step
from funding.models import Institution
from programmes.models import Programme
from tests.factories import CohortFactory, CourseFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2025, 7, 1)


@pytest.fixture(autouse=True)
def _registration_open():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def cohort():
    Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        postcode="ME14 2LR",
        status="Open",
    )
    cohort = CohortFactory(registration_opens_on=date(2025, 6, 1), registration_closes_on=date(2025, 9, 15))
    CourseFactory(cohort=cohort)  # NPQLT
    CourseFactory(cohort=cohort, programme=Programme.objects.get(code="NPQH"))
    return cohort


def go(client, application, step, data):
    return client.post(reverse("application_step", args=[application.pk, step]), data)


def start(client, cohort) -> Application:
    response = client.post(reverse("apply"), {"cohort": cohort.pk})
    application = Application.objects.get()
    assert response["Location"] == reverse("application_step", args=[application.pk, "in-england"])
    return application


def test_trn_rules():
    assert normalise_trn("RP 12/34567") == "1234567"
    assert normalise_trn(" 123 4567 ") == "1234567"


def test_next_step_asks_course_questions_only_where_they_apply():
    base = {"in_england": "yes", "work_setting": "school", "urn": 1, "role": "Teacher", "course": 1}
    assert next_step({**base, "course_code": "EHCO"}) == "headteacher"
    assert next_step({**base, "course_code": "NPQSENCO"}) == "senco"
    assert next_step({**base, "course_code": "NPQLT"}) == "funding"
    assert next_step({**base, "course_code": "NPQLT", "funding_seen": True, "funded": True}) == "trn"
    assert next_step({**base, "course_code": "NPQLT", "funding_seen": True, "funded": False}) == "payment"


def test_the_whole_form_then_submit(client, cohort, django_capture_on_commit_callbacks):
    user = UserFactory(email="alice@school.example")
    client.force_login(user)
    application = start(client, cohort)
    go(client, application, "in-england", {"in_england": "yes"})
    go(client, application, "work-setting", {"work_setting": "school"})
    go(client, application, "workplace", {"workplace": "137001"})
    go(client, application, "role", {"role": "Head of maths"})
    page = client.get(reverse("application_step", args=[application.pk, "course"])).content.decode()
    assert (
        "Leading Teaching" in page and "Headship" in page and "Senior Leadership" not in page
    )  # only this cohort's
    npqh = application.cohort.courses.get(programme__code="NPQH")
    assert go(client, application, "course", {"course": npqh.pk})["Location"].endswith("/funding")
    page = client.get(reverse("application_step", args=[application.pk, "funding"])).content.decode()
    assert 'data-reason="funded"' in page  # NPQH is open to all state schools in round 2025
    go(client, application, "funding", {"funding_seen": "True"})
    response = go(client, application, "trn", {"trn": "0000000"})
    assert "Enter your own teacher reference number, not 0000000" in response.content.decode()
    assert "<title>Error: " in response.content.decode()
    response = go(client, application, "trn", {"trn": "12345"})
    assert "Teacher reference number must be 7 digits" in response.content.decode()
    go(client, application, "trn", {"trn": "RP 12 34567"})
    go(client, application, "identity", {"full_name": "Alice Adeyemi", "date_of_birth": "27 3 1985"})
    page = client.get(reverse("application_step", args=[application.pk, "endorser"])).content.decode()
    assert "Who is your line manager?" in page  # NPQH is endorsed by the line manager
    response = go(
        client, application, "endorser", {"endorser_name": "Me", "endorser_email": "alice@school.example"}
    )
    assert "not your own" in response.content.decode()
    go(
        client,
        application,
        "endorser",
        {"endorser_name": "Hana Hughes", "endorser_email": "Hana@School.example"},
    )
    go(client, application, "mentor", {"mentor_name": "Mo Mentor", "mentor_email": "mo@school.example"})
    go(client, application, "support", {"support_requested": "no"})
    response = go(client, application, "consent", {})
    assert "Confirm that you agree to share your information" in response.content.decode()
    assert go(client, application, "consent", {"consent": "on"})["Location"] == reverse(
        "application_check", args=[application.pk]
    )

    check = client.get(reverse("application_check", args=[application.pk])).content.decode()
    assert "1234567" in check and "Northfield Academy" in check and "hana@school.example" in check
    assert reverse("application_step", args=[application.pk, "trn"]) in check  # change links
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("application_check", args=[application.pk]))
    assert response["Location"] == reverse("application_submitted", args=[application.pk])
    application.refresh_from_db()
    assert application.status == "awaiting_endorsement" and application.trn == "1234567"
    assert mail.outbox[-1].to == ["hana@school.example"]
    # Submitted: the pages no longer change it.
    assert go(client, application, "trn", {"trn": "7654321"})["Location"] == reverse(
        "application_detail", args=[application.pk]
    )
    detail = client.get(reverse("application_detail", args=[application.pk])).content.decode()
    assert (
        "Waiting for endorsement" in detail and "We have emailed your headteacher or line manager" in detail
    )
    assert 'data-reason="funded"' in detail


def test_answers_are_saved_as_you_go_and_you_cannot_skip_ahead(client, cohort):
    client.force_login(UserFactory())
    application = start(client, cohort)
    go(client, application, "in-england", {"in_england": "yes"})
    # Leave and come back: the next question is where they left off.
    response = client.post(reverse("apply"), {"cohort": cohort.pk})
    assert response["Location"] == reverse("application_step", args=[application.pk, "work-setting"])
    skip = client.get(reverse("application_step", args=[application.pk, "trn"]))
    assert skip["Location"] == reverse("application_step", args=[application.pk, "work-setting"])


def test_changing_the_course_asks_for_funding_again(client, cohort):
    client.force_login(UserFactory())
    application = start(client, cohort)
    for step, data in [
        ("in-england", {"in_england": "yes"}),
        ("work-setting", {"work_setting": "school"}),
        ("workplace", {"workplace": "137001"}),
        ("role", {"role": "Teacher"}),
    ]:
        go(client, application, step, data)
    npqlt = application.cohort.courses.get(programme__code="NPQLT")
    go(client, application, "course", {"course": npqlt.pk})
    go(client, application, "funding", {"funding_seen": "True"})
    application.refresh_from_db()
    assert application.answers["funded"] is False  # NPQLT in 2025 needs the eligibility list
    npqh = application.cohort.courses.get(programme__code="NPQH")
    assert go(client, application, "course", {"course": npqh.pk})["Location"].endswith("/funding")
    application.refresh_from_db()
    assert "funding_seen" not in application.answers and application.course == npqh


def test_a_closed_cohort_cannot_be_applied_to(client, cohort):
    closed = CohortFactory(registration_opens_on=date(2025, 1, 1), registration_closes_on=date(2025, 2, 1))
    client.force_login(UserFactory())
    response = client.post(reverse("apply"), {"cohort": closed.pk})
    assert response.status_code == 200
    assert "Select a cohort that is open for registration" in response.content.decode()
    assert not Application.objects.exists()


def test_an_unfinished_form_expires_after_five_days(client, cohort):
    user = UserFactory()
    client.force_login(user)
    application = start(client, cohort)
    with time_machine.travel(date(2025, 7, 7), tick=False):
        client.force_login(user)
        response = client.get(reverse("application_step", args=[application.pk, "in-england"]))
        assert response["Location"] == reverse("application_detail", args=[application.pk])
    application.refresh_from_db()
    assert application.status == "registration_expired"
