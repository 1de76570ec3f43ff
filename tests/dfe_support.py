"""The fake DfE over real HTTP for tests, with every request the portal sends and every answer
the fake gives checked against DfE's published OpenAPI description (tests/contracts/); and the
fixtures and helpers the DfE tests share (a course, its lead provider's DfE account, an
application accepted through DfE, a participant accepted with a schedule)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.utils import timezone
from openapi_core import Config as OpenAPIConfig
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from applications.models import Application
from applications.services import application_accept
from dfe.models import DeliveryPartner, DfeApplication, Milestone, Schedule
from dfe.services import token_set
from dfe.sync import sync_applications
from engagement.models import Attendance
from funding.models import FundingDecision
from tests.factories import (
    ActivityFactory,
    ApplicationFactory,
    CourseFactory,
    GroupFactory,
    LeadProviderFactory,
    UserFactory,
)

CONTRACT = Path(__file__).parent / "contracts" / "lead-provider-api-v3.yaml"
# Statuses the description does not list: transport failures the tests inject (429, 5xx).
UNDESCRIBED = {429, 500, 502, 503, 504}


def contract_dict() -> dict:
    return yaml.safe_load(CONTRACT.read_text())


def _normalise(node) -> None:
    """Three (of four) defects of the published description, read as DfE's API behaves (decisions.md, 38):
    ``required: true`` on a property (OpenAPI 2 style; the object's ``required`` list says it),
    nullable enums without null (DfE sends null, e.g. schedule_identifier before acceptance),
    and deepObject parameters without ``explode: true`` (DfE reads ``filter[updated_since]``)."""
    if isinstance(node, dict):
        if isinstance(node.get("required"), bool):
            node.pop("required")
        if node.get("nullable") is True and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        if node.get("style") == "deepObject":
            node["explode"] = True
        for value in node.values():
            _normalise(value)
    elif isinstance(node, list):
        for value in node:
            _normalise(value)


def _boolean_has_passed(node) -> None:
    if isinstance(node, dict):
        has_passed = node.get("has_passed")
        if isinstance(has_passed, dict) and has_passed.get("type") == "string":
            has_passed["type"] = "boolean"
        for value in node.values():
            _boolean_has_passed(value)
    elif isinstance(node, list):
        for value in node:
            _boolean_has_passed(value)


def contract(base_url: str) -> OpenAPI:
    spec = contract_dict()
    _normalise(spec)
    # DfE answers a reject it refuses (an application already accepted or rejected) with 422,
    # as every other write does; the description omits it for this one endpoint.
    reject = spec["paths"]["/api/v3/npq-applications/{id}/reject"]["post"]["responses"]
    reject.setdefault(
        "422", spec["paths"]["/api/v3/npq-applications/{id}/accept"]["post"]["responses"]["422"]
    )
    # DfE answers has_passed as a boolean (its serializer: the latest outcome's has_passed?); the
    # description says string. Read as DfE behaves (decisions.md, 39).
    _boolean_has_passed(spec)
    spec["servers"] = [{"url": base_url}]
    # The published file is not valid OpenAPI 3.0 as written (above), so it is not checked as a
    # description; requests and answers are checked against it.
    return OpenAPI.from_dict(spec, config=OpenAPIConfig(spec_validator_cls=None))


class ContractChecker:
    """A requests response hook: fails the test on any request or answer outside the contract."""

    def __init__(self, api: OpenAPI) -> None:
        self.api = api
        self.checked = 0

    def __call__(self, response, *args, **kwargs):
        request = RequestsOpenAPIRequest(response.request)
        self.api.validate_request(request)
        if response.status_code not in UNDESCRIBED:
            self.api.validate_response(request, RequestsOpenAPIResponse(response))
        self.checked += 1
        return response


def serve(settings):
    """The fake DfE on 127.0.0.1, the link to it on (DFE_API_URL), tokens encrypted with a fresh
    key, no waiting between retries, and every request and answer checked against the schema."""
    from dfe import client as dfe_client
    from dfe.fake import FakeDfeServer

    with FakeDfeServer() as server:
        settings.DFE_API_URL = server.url
        settings.DFE_TOKEN_KEY = Fernet.generate_key().decode()
        settings.DFE_RETRY_BACKOFF_SECONDS = 0
        checker = ContractChecker(contract(server.url))
        dfe_client.RESPONSE_HOOKS.append(checker)
        server.checker = checker
        try:
            yield server
        finally:
            dfe_client.RESPONSE_HOOKS.remove(checker)


# --- the fixtures and helpers the DfE tests share (tests/test_dfe_*.py) --------------------------


@pytest.fixture
def fake_dfe(settings):
    yield from serve(settings)


@pytest.fixture
def course(db):
    course = CourseFactory(funded_places=5, cohort__hub__lead_provider=LeadProviderFactory(name="Ambition"))
    GroupFactory(course=course, capacity=10, name="Group A")
    return course


@pytest.fixture
def account(fake_dfe, course):
    fake_dfe.fake.add_provider("Ambition", "secret-token-ambition")
    return token_set(lead_provider=course.cohort.hub.lead_provider, token="secret-token-ambition")


def dfe_application(fake_dfe, **kwargs) -> dict:
    values = {
        "provider": "Ambition",
        "full_name": "Alice Adeyemi",
        "email": "alice@school.example",
        "trn": "1234567",
        "course_identifier": "npq-leading-teaching",
        **kwargs,
    }
    return fake_dfe.fake.add_application(**values)


def endorsed(course, *, email="alice@school.example", trn="1234567") -> Application:
    """An endorsed application whose funding decision funds it (so accepting gives a funded place)."""
    application = ApplicationFactory(course=course, user=UserFactory(email=email))
    decision = FundingDecision.objects.create(
        user=application.user,
        course=course,
        funding_round=course.cohort.funding_round,
        facts={"course": course.programme.code},
        funded=True,
        reason="funded",
        assessed_at=timezone.now(),
    )
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.ENDORSED, trn=trn, full_name="Alice Adeyemi", funding_decision=decision
    )
    return Application.objects.get(pk=application.pk)


def accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks):
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        application_accept(application=application, by=None)
    return remote, Application.objects.get(pk=application.pk)


@pytest.fixture
def accepted(fake_dfe, course, account, django_capture_on_commit_callbacks):
    """An accepted participant with a schedule, and the hub's DfE delivery partner id."""
    remote, application = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    dfe_app = DfeApplication.objects.get(dfe_id=remote["id"])
    assert dfe_app.schedule_identifier  # each accepted participant has a schedule
    schedule, _ = Schedule.objects.get_or_create(
        dfe_cohort=dfe_app.cohort,
        identifier=dfe_app.schedule_identifier,
        defaults={"starts_on": date(2025, 9, 1)},
    )
    for kind, when in (
        ("started", date(2025, 12, 1)),
        ("retained-1", date(2026, 5, 26)),
        ("completed", date(2027, 2, 21)),
    ):
        Milestone.objects.get_or_create(
            schedule=schedule, declaration_type=kind, defaults={"milestone_date": when}
        )
    DeliveryPartner.objects.create(
        hub=course.cohort.hub, dfe_cohort=dfe_app.cohort, delivery_partner_id=uuid.uuid4()
    )
    return remote, application.participant, dfe_app


def first_activity_attended(participant):
    activity = ActivityFactory(
        group=participant.group,
        starts_at=datetime(2025, 10, 6, 16, 0, tzinfo=timezone.get_current_timezone()),
    )
    Attendance.objects.create(participant=participant, activity=activity, status=Attendance.Status.ATTENDED)
    return activity
