"""The public "check your funding" pages: questions, routes, errors and the result with its reason."""

import pytest
from django.urls import reverse

from funding.checker import next_step
from funding.models import EligibilityListEntry, FundingRound, Institution
from tests.factories import northfield_schools

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def spring_2025_round(settings):
    # These pages are checked against the spring 2025 rules (and its lists, below); which round
    # the checker uses by default is tested at the end.
    settings.FUNDING_CHECK_ROUND = "2025"


@pytest.fixture
def schools():
    round_2025 = FundingRound.objects.get(code="2025")
    northfield, _ = northfield_schools()
    Institution.objects.create(
        urn=131214,
        name="École Jeannine Manuel",
        establishment_type_code=11,
        la_code="202",
        postcode="WC1B 3DN",
        status="Open",
    )
    EligibilityListEntry.objects.create(funding_round=round_2025, kind="pp50_school", identifier="137001")
    return northfield


def answer(client, step, data):
    return client.post(reverse("funding_check_step", args=[step]), data)


def start(client):
    response = client.post(reverse("funding_check"))
    assert response["Location"] == reverse("funding_check_step", args=["course"])


def test_routes_as_data():
    assert next_step({}) == "course"
    assert next_step({"course": "NPQLT", "in_england": "no"}) == "result"
    school = {"course": "NPQLT", "in_england": "yes", "work_setting": "school"}
    assert next_step(school) == "workplace"
    assert next_step({**school, "urn": 1}) == "result"
    assert next_step({**school, "course": "EHCO", "urn": 1}) == "headteacher"
    early = {"course": "NPQEYL", "in_england": "yes", "work_setting": "early_years"}
    assert next_step(early) == "kind-of-nursery"
    assert next_step({**early, "kind_of_nursery": "childminder"}) == "ofsted"
    assert next_step({**early, "kind_of_nursery": "local_authority_maintained_nursery"}) == "workplace"
    elsewhere = {"course": "NPQH", "in_england": "yes", "work_setting": "other"}
    assert next_step(elsewhere) == "return-to-teaching"
    assert next_step({**elsewhere, "referred_by_return_to_teaching_adviser": "no"}) == "result"
    other = {"course": "NPQLTD", "in_england": "yes", "work_setting": "another_setting"}
    assert (
        next_step({**other, "employment_type": "lead_mentor_for_accredited_itt_provider"}) == "itt-provider"
    )


def test_a_teacher_at_a_listed_school_is_told_they_are_likely_funded(client, schools):
    start(client)
    assert answer(client, "course", {"course": "NPQLT"})["Location"].endswith("/in-england")
    answer(client, "in-england", {"in_england": "yes"})
    assert answer(client, "work-setting", {"work_setting": "school"})["Location"].endswith("/workplace")
    assert answer(client, "workplace", {"workplace": "137001"})["Location"] == reverse("funding_check_result")
    page = client.get(reverse("funding_check_result"))
    html = page.content.decode()
    assert "You are likely to get funding" in html and 'data-reason="funded"' in html
    assert "Northfield Academy (URN 137001)" in html


def test_a_school_not_on_the_list_gets_the_reason_in_plain_english(client, schools):
    start(client)
    answer(client, "course", {"course": "NPQLT"})
    answer(client, "in-england", {"in_england": "yes"})
    answer(client, "work-setting", {"work_setting": "school"})
    response = answer(client, "workplace", {"workplace": "Northfield"})
    # Two schools match: the applicant chooses one (a list to choose from, not an error).
    assert response.status_code == 200
    html = response.content.decode()
    assert "Northfield Primary School, ME14 2LS (URN 137002)" in html
    assert "There is a problem" not in html and "govuk-error-message" not in html
    assert "<title>Error" not in html and 'name="listed_for" value="Northfield"' in html
    answer(client, "workplace", {"workplace": "Northfield", "listed_for": "Northfield", "urn": "137002"})
    html = client.get(reverse("funding_check_result")).content.decode()
    assert 'data-reason="ineligible_establishment_not_on_list"' in html
    assert "targeted at the schools and settings on DfE&#x27;s eligibility lists" in html


def test_outside_england_is_answered_after_two_questions(client, schools):
    start(client)
    answer(client, "course", {"course": "NPQH"})
    assert answer(client, "in-england", {"in_england": "no"})["Location"] == reverse("funding_check_result")
    html = client.get(reverse("funding_check_result")).content.decode()
    assert 'data-reason="not_in_england"' in html and "only for people working in England" in html


def test_errors_use_the_govuk_pattern(client, schools):
    start(client)
    response = answer(client, "course", {})
    html = response.content.decode()
    assert "<title>Error: Which NPQ do you want to do? – NPQ Portal</title>" in html
    assert '<a href="#id_course">Select the NPQ you want to do</a>' in html
    assert 'class="govuk-error-message"' in html
    answer(client, "course", {"course": "NPQLT"})
    answer(client, "in-england", {"in_england": "yes"})
    answer(client, "work-setting", {"work_setting": "school"})
    html = answer(client, "workplace", {"workplace": "Nowhere School"}).content.decode()
    assert "No open school or college matches that" in html


def test_changing_an_earlier_answer_asks_the_later_questions_again(client, schools):
    start(client)
    answer(client, "course", {"course": "NPQLT"})
    answer(client, "in-england", {"in_england": "yes"})
    answer(client, "work-setting", {"work_setting": "school"})
    answer(client, "workplace", {"workplace": "137001"})
    response = answer(client, "work-setting", {"work_setting": "another_setting"})
    assert response["Location"].endswith("/employment")  # the school answer no longer applies
    assert client.get(reverse("funding_check_result"))["Location"].endswith("/employment")
    assert answer(client, "employment", {"employment_type": "hospital_school"})["Location"] == reverse(
        "funding_check_result"
    )
    assert "urn" not in client.session["funding_check"]  # dropped once the route is complete
    html = client.get(reverse("funding_check_result")).content.decode()
    assert "Northfield Academy" not in html and "In a hospital school" in html


def test_changing_an_answer_from_the_result_keeps_the_others(client, schools):
    start(client)
    answer(client, "course", {"course": "NPQLT"})
    answer(client, "in-england", {"in_england": "yes"})
    answer(client, "work-setting", {"work_setting": "school"})
    answer(client, "workplace", {"workplace": "137001"})
    result = client.get(reverse("funding_check_result")).content.decode()
    assert f'href="{reverse("funding_check_step", args=["course"])}"' in result  # change links
    page = client.get(reverse("funding_check_step", args=["course"])).content.decode()
    assert f'href="{reverse("funding_check_result")}" class="govuk-back-link"' in page
    # The same NPQ, then one with no questions of its own: straight back to the result.
    assert answer(client, "course", {"course": "NPQLT"})["Location"] == reverse("funding_check_result")
    assert answer(client, "course", {"course": "NPQH"})["Location"] == reverse("funding_check_result")
    assert client.session["funding_check"]["urn"] == 137001
    # EHCO asks its own questions, then the result; the workplace is kept.
    assert answer(client, "course", {"course": "EHCO"})["Location"].endswith("/headteacher")
    answer(client, "headteacher", {"headteacher": "yes", "years_as_headteacher": "1"})
    response = answer(client, "npqh", {"npqh_status": "completed", "withdrew_from_ehco_before": "no"})
    assert response["Location"] == reverse("funding_check_result")
    html = client.get(reverse("funding_check_result")).content.decode()
    assert 'data-reason="funded_ehco"' in html and "Northfield Academy (URN 137001)" in html


def test_ehco_questions(client, schools):
    start(client)
    answer(client, "course", {"course": "EHCO"})
    answer(client, "in-england", {"in_england": "yes"})
    answer(client, "work-setting", {"work_setting": "school"})
    answer(client, "workplace", {"workplace": "137001"})
    response = answer(client, "headteacher", {"headteacher": "yes"})
    assert "Enter how many years you have been a headteacher" in response.content.decode()
    answer(client, "headteacher", {"headteacher": "yes", "years_as_headteacher": "2"})
    answer(client, "npqh", {"npqh_status": "none", "withdrew_from_ehco_before": "no"})
    html = client.get(reverse("funding_check_result")).content.decode()
    assert 'data-reason="ehco_no_npqh"' in html


def test_a_childminder_gives_an_ofsted_urn(client, schools):
    EligibilityListEntry.objects.create(
        funding_round=FundingRound.objects.get(code="2025"), kind="childminder", identifier="EY123456"
    )
    start(client)
    answer(client, "course", {"course": "NPQEYL"})
    answer(client, "in-england", {"in_england": "yes"})
    answer(client, "work-setting", {"work_setting": "early_years"})
    answer(client, "kind-of-nursery", {"kind_of_nursery": "childminder"})
    html = answer(client, "ofsted", {"ofsted_urn": "123456"}).content.decode()
    assert "Enter an Ofsted URN that starts with EY" in html
    answer(client, "ofsted", {"ofsted_urn": "ey 123456"})
    html = client.get(reverse("funding_check_result")).content.decode()
    assert 'data-reason="funded"' in html


def test_unknown_question_is_404(client):
    assert client.get(reverse("funding_check_step", args=["nope"])).status_code == 404


@pytest.mark.parametrize(
    ("day", "code"),
    [("2025-07-31", "2025"), ("2025-08-01", "2025-26"), ("2026-05-31", "2025-26"), ("2026-06-01", "2026")],
)
def test_by_default_the_checker_uses_the_round_in_force_that_day(settings, day, code):
    import time_machine

    from funding.views import checker_round

    settings.FUNDING_CHECK_ROUND = ""
    with time_machine.travel(f"{day} 12:00Z", tick=False):
        assert checker_round().code == code
    FundingRound.objects.filter(code="2026").update(in_force_from="2027-01-01")  # edited in admin
    with time_machine.travel("2026-11-26 12:00Z", tick=False):
        assert checker_round().code == "2025-26"
