"""The fake DfE over real HTTP for tests, with every request the portal sends and every answer
the fake gives checked against DfE's published OpenAPI description (tests/contracts/)."""

from __future__ import annotations

from pathlib import Path

import yaml
from cryptography.fernet import Fernet
from openapi_core import Config as OpenAPIConfig
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

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
