"""The public funding checker, the application form and ``assess_funding`` give the same answer.

For a sample of DfE's scenarios (tests/data/funding_scenarios), the workplace is stored as GIAS
and DfE's lists would store it; a person answers the checker's questions and the form's, page by
page; and the same facts go to ``manage.py assess_funding``. All three must give the scenario's
reason.
"""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from applications.models import Application
from funding.models import EligibilityListEntry, FundingRound, Institution, IttProvider
from programmes.models import Programme
from tests.factories import CohortFactory, CourseFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHOOL = {"work_setting": "school", "establishment_type_code": 1}
EHCO_HEAD = {"headteacher": True, "years_as_headteacher": 2}
ANOTHER = {"work_setting": "another_setting"}
EY = {"work_setting": "early_years"}

# (round, facts, the reason DfE's scenarios give, in the portal's words)
SAMPLE = [
    ("2026", {**SCHOOL, "course": "NPQLT", "eligibility_lists": ["pp50_school"]}, "funded"),
    ("2026", {**SCHOOL, "course": "NPQLT"}, "ineligible_establishment_not_on_list"),
    (
        "2026",
        {
            "work_setting": "16_to_19",
            "establishment_type_code": 18,
            "course": "NPQLL",
            "eligibility_lists": ["rise"],
        },
        "funded",
    ),
    (
        "2026",
        {
            **EY,
            "kind_of_nursery": "local_authority_maintained_nursery",
            "establishment_type_code": 15,
            "course": "NPQSL",
        },
        "funded",
    ),
    ("2026", {**EY, "kind_of_nursery": "childminder", "course": "NPQEYL"}, "not_entitled_childminder"),
    ("2026", {**ANOTHER, "employment_type": "hospital_school", "course": "NPQSL"}, "subject_to_review"),
    (
        "2026",
        {
            **ANOTHER,
            "employment_type": "lead_mentor_for_accredited_itt_provider",
            "approved_itt_provider": True,
            "course": "NPQLTD",
        },
        "funded_lead_mentor",
    ),
    (
        "2026",
        {"work_setting": "other", "referred_by_return_to_teaching_adviser": True, "course": "NPQH"},
        "referred_by_return_to_teaching_adviser",
    ),
    (
        "2026",
        {
            **EY,
            "kind_of_nursery": "private_nursery",
            **EHCO_HEAD,
            "npqh_status": "will_start",
            "course": "EHCO",
        },
        "funded_ehco",
    ),
    (
        "2025-26",
        {
            **EY,
            "kind_of_nursery": "local_authority_maintained_nursery",
            "establishment_type_code": 15,
            "eligibility_lists": ["la_disadvantaged_nursery"],
            "course": "NPQH",
        },
        "funded",
    ),
    (
        "2025-26",
        {
            **EY,
            "kind_of_nursery": "private_nursery",
            "eligibility_lists": ["disadvantaged_early_years"],
            "course": "NPQEYL",
        },
        "funded",
    ),
    ("2025-26", {**SCHOOL, "establishment_type_code": 11, "course": "NPQH"}, "ineligible_establishment_type"),
    (
        "2025-26",
        {
            "work_setting": "16_to_19",
            "establishment_type_code": 18,
            "course": "NPQLPM",
            "eligibility_lists": ["pp50_fe"],
        },
        "funded",
    ),
    ("2025-26", {"work_setting": "other", "course": "NPQSENCO"}, "ineligible_establishment_type"),
    (
        "2025",
        {**ANOTHER, "employment_type": "local_authority_virtual_school", "course": "NPQLPM"},
        "ineligible_establishment_type",
    ),
]
URN = 137001
OFSTED_URN = "EY123456"


def _store_the_workplace(round_code: str, facts: dict[str, Any]) -> None:
    """The workplace as the portal's data holds it: GIAS, DfE's lists, the ITT providers."""
    funding_round = FundingRound.objects.get(code=round_code)
    identifier = str(URN)
    if "establishment_type_code" in facts:
        Institution.objects.create(
            urn=URN,
            name="Northfield Academy",
            establishment_type_code=facts["establishment_type_code"],
            la_code="886",
            postcode="ME14 2LR",
            status="Open",
        )
    else:
        identifier = OFSTED_URN
    for kind in facts.get("eligibility_lists", []):
        EligibilityListEntry.objects.create(funding_round=funding_round, kind=kind, identifier=identifier)
    IttProvider.objects.create(name="Kent Teacher Training", approved=True)


def _page_answers(facts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a person in this scenario types on each page (both journeys share these pages)."""
    yes_no = {True: "yes", False: "no"}
    return {
        "in-england": {"in_england": "yes"},
        "work-setting": {"work_setting": facts["work_setting"]},
        "kind-of-nursery": {"kind_of_nursery": facts.get("kind_of_nursery", "")},
        "ofsted": {"ofsted_urn": OFSTED_URN},
        "workplace": {"workplace": str(URN)},
        "employment": {"employment_type": facts.get("employment_type", "")},
        "itt-provider": {"itt_provider": IttProvider.objects.get().pk},
        "return-to-teaching": {
            "referred_by_return_to_teaching_adviser": yes_no[
                facts.get("referred_by_return_to_teaching_adviser", False)
            ]
        },
        "headteacher": {
            "headteacher": yes_no[facts.get("headteacher", False)],
            "years_as_headteacher": facts.get("years_as_headteacher", ""),
        },
        "npqh": {"npqh_status": facts.get("npqh_status", "none"), "withdrew_from_ehco_before": "no"},
        "role": {"role": "Teacher"},
        "senco": {"senco_in_role_since": ""},
    }


def _follow(client, first_url: str, url_of, answers: dict[str, dict], stop: str) -> str:
    """Answer page after page from ``first_url`` until the journey reaches ``stop``."""
    url = first_url
    for _ in range(15):
        if url.rstrip("/").endswith(stop):
            return url
        step = url.rstrip("/").rsplit("/", 1)[-1]
        response = client.post(url, answers[step])
        assert response.status_code == 302, (step, response.content.decode()[:2000])
        url = response["Location"]
    raise AssertionError("the journey did not end")


def _reason_on(page: str) -> str:
    return page.split('data-reason="', 1)[1].split('"', 1)[0]


def checker_reason(client, settings, round_code: str, facts: dict[str, Any]) -> str:
    settings.FUNDING_CHECK_ROUND = round_code
    answers = {"course": {"course": facts["course"]}, **_page_answers(facts)}
    client.post(reverse("funding_check"))
    url = _follow(client, reverse("funding_check_step", args=["course"]), None, answers, "result")
    return _reason_on(client.get(url).content.decode())


def form_reason(client, round_code: str, facts: dict[str, Any]) -> str:
    cohort = CohortFactory(funding_round=FundingRound.objects.get(code=round_code))
    course = CourseFactory(cohort=cohort, programme=Programme.objects.get(code=facts["course"]))
    client.force_login(UserFactory())
    client.post(reverse("apply"), {"cohort": cohort.pk})
    application = Application.objects.get()
    answers = {**_page_answers(facts), "course": {"course": course.pk}}
    first = reverse("application_step", args=[application.pk, "in-england"])
    url = _follow(client, first, None, answers, "funding")
    return _reason_on(client.get(url).content.decode())


def command_reason(round_code: str, facts: dict[str, Any], tmp_path) -> str:
    path = tmp_path / "facts.json"
    path.write_text(
        json.dumps([{"round": round_code, "in_england": True, "cohort_funding": "capped", **facts}])
    )
    out = StringIO()
    call_command("assess_funding", str(path), stdout=out)
    return json.loads(out.getvalue())[0]["reason"]


@pytest.mark.parametrize(
    ("round_code", "facts", "reason"), SAMPLE, ids=[f"{r}-{f['course']}-{e}" for r, f, e in SAMPLE]
)
def test_checker_form_and_command_agree(client, settings, tmp_path, round_code, facts, reason):
    _store_the_workplace(round_code, facts)
    assert command_reason(round_code, facts, tmp_path) == reason
    with time_machine.travel(date(2025, 7, 1), tick=False):
        assert checker_reason(client, settings, round_code, facts) == reason
        client.logout()
        assert form_reason(client, round_code, facts) == reason
