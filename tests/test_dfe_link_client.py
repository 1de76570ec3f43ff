# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""The link to DfE's lead provider API v3, over real HTTP against the fake DfE, with every request
and answer checked against DfE's published schema (tests/dfe_support.py): the client
(retries, DfE's errors in words, the schema check) and the fake's DfE rules the portal relies on."""

from __future__ import annotations

import pytest
import requests

from dfe.client import DfeClient, DfeRefused
from tests.dfe_support import (  # noqa: F401 - the fixtures
    dfe_application,
    fake_dfe,
)

# --- the client ----------------------------------------------------------------------------


def test_reads_retry_429_and_503_with_backoff(fake_dfe):
    fake_dfe.fake.add_provider("Ambition", "t")
    waits = []
    client = DfeClient(base_url=fake_dfe.url, token="t", sleep=waits.append)
    fake_dfe.fake.fail_next(429, 503)
    assert client.applications_page() == []
    assert len(waits) == 2


def test_dfe_errors_are_told_in_words(fake_dfe):
    fake_dfe.fake.add_provider("Ambition", "t")
    made = dfe_application(fake_dfe)
    client = DfeClient(base_url=fake_dfe.url, token="t", sleep=lambda s: None)
    client.accept(made["id"], funded_place=True, schedule_identifier=None)
    with pytest.raises(DfeRefused) as refused:
        client.reject(made["id"])
    assert str(refused.value) == "Once accepted an application cannot change state."
    with pytest.raises(DfeRefused, match="did not accept the lead provider's API token"):
        DfeClient(base_url=fake_dfe.url, token="wrong", sleep=lambda s: None).applications_page()
    with pytest.raises(DfeRefused, match="not eligible for funding"):
        other = dfe_application(fake_dfe, eligible_for_funding=False, email="x@school.example")
        client.accept(other["id"], funded_place=True, schedule_identifier=None)


def test_the_schema_check_catches_a_request_outside_the_contract(fake_dfe):
    fake_dfe.fake.add_provider("Ambition", "t")
    made = dfe_application(fake_dfe)
    session = requests.Session()
    session.hooks["response"].append(fake_dfe.checker)
    body = {"data": {"type": "npq-application-accept", "attributes": {"funded_place": "yes"}}}
    with pytest.raises(Exception, match=r"Request body validation error|InvalidRequestBody|funded_place"):
        session.post(
            f"{fake_dfe.url}/api/v3/npq-applications/{made['id']}/accept",
            json=body,
            headers={"Authorization": "Bearer t"},
        )


# --- the fake's DfE rules ------------------------------------------------------------------


def test_dfe_closes_a_duplicate_application_when_one_is_accepted(fake_dfe):
    fake_dfe.fake.add_provider("Ambition", "t")
    first = dfe_application(fake_dfe)
    second = dfe_application(fake_dfe, participant_id=first["participant_id"])
    client = DfeClient(base_url=fake_dfe.url, token="t", sleep=lambda s: None)
    client.accept(first["id"], funded_place=True, schedule_identifier="npq-specialist-autumn")
    assert client.application(second["id"])["attributes"]["status"] == "rejected"
    with pytest.raises(DfeRefused, match="Once rejected an application cannot change state"):
        client.accept(second["id"], funded_place=True, schedule_identifier=None)
    with pytest.raises(DfeRefused, match="Selected schedule is not valid for the course"):
        third = dfe_application(fake_dfe, email="z@school.example")
        client.accept(third["id"], funded_place=True, schedule_identifier="npq-leadership-spring")


def test_the_demo_fake_can_hold_a_started_declaration_for_each_acceptance(fake_dfe):
    fake_dfe.fake.add_provider("Ambition", "t")
    fake_dfe.fake.declare_started_on_accept = True
    made = dfe_application(fake_dfe)
    client = DfeClient(base_url=fake_dfe.url, token="t", sleep=lambda s: None)
    client.accept(made["id"], funded_place=True, schedule_identifier=None)
    assert [
        d["attributes"]["declaration_type"]
        for d in client.declarations(participant_id=made["participant_id"])
    ] == ["started"]
    changed = client.participant_change(
        made["participant_id"], "withdraw", {"course_identifier": "npq-leading-teaching", "reason": "other"}
    )
    assert changed["attributes"]["npq_enrolments"][0]["training_status"] == "withdrawn"
