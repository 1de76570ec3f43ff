# ruff: noqa: F811 - the fixtures imported from the declarations tests are arguments here
"""A new user's and an attacker's review of the DfE link and declarations (issues 16 and 17):
what other lead providers' staff and a hub's facilitator cannot reach, what the assurance pack
says of a withdrawn participant, and where the DfE token must never appear."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from dfe.client import DfeClient
from dfe.declarations import declare
from dfe.models import Declaration, DeliveryPartner, DfeApplication
from dfe.services import lead_provider_staff_add
from programmes.models import HubMembership
from tests.factories import CourseFactory, HubStaffFactory, LeadProviderFactory
from tests.test_dfe_declarations import (  # noqa: F401 - the fixtures
    accepted,
    account,
    course,
    fake_dfe,
    first_activity_attended,
)


def test_another_lead_providers_staff_reach_none_of_the_declarations_pages(
    client, accepted, course, django_capture_on_commit_callbacks
):
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare(participant, "started", by=None)
    other = CourseFactory(cohort__hub__lead_provider=LeadProviderFactory(name="Other provider"))
    outsider = HubStaffFactory()
    lead_provider_staff_add(lead_provider=other.cohort.hub.lead_provider, user=outsider)
    client.force_login(outsider)

    for url in (
        reverse("admin:dfe_declaration_cohort", args=[course.cohort.pk]),
        reverse("admin:dfe_declaration_assurance", args=[course.cohort.pk]),
        reverse("admin:dfe_declaration_participant", args=[participant.pk]),
        reverse("admin:dfe_declaration_void", args=[declaration.pk]),
        reverse("admin:dfe_declaration_change", args=[declaration.pk]),
        reverse("admin:dfe_evidence_change", args=[declaration.evidence_id]),
        reverse("admin:dfe_dfeapplication_change", args=[dfe_app.pk]),
    ):
        assert client.get(url).status_code in (302, 403, 404), url
    page = client.post(
        reverse("admin:dfe_declaration_participant", args=[participant.pk]),
        {"declaration_type": "retained-1", "override_reason": "crafted"},
    )
    assert page.status_code == 404
    assert (
        client.post(
            reverse("admin:dfe_declaration_cohort", args=[course.cohort.pk]),
            {"declare": [f"{participant.pk}:retained-1"]},
        ).status_code
        == 404
    )
    client.post(reverse("admin:dfe_declaration_void", args=[declaration.pk]), {"reason": "crafted"})
    declaration.refresh_from_db()
    assert declaration.state != Declaration.State.VOIDED
    assert Declaration.objects.count() == 1
    # Their own lists hold nothing of the other provider's.
    assert dfe_app.full_name not in client.get("/admin/dfe/declaration/").content.decode()
    assert dfe_app.full_name not in client.get("/admin/dfe/dfeapplication/").content.decode()
    # Nor can they give the other provider's hub a delivery partner id.
    client.post(
        "/admin/dfe/deliverypartner/add/",
        {
            "hub": course.cohort.hub.pk,
            "dfe_cohort": "2026",
            "delivery_partner_id": "00000000-0000-4000-8000-0000000000aa",
        },
    )
    assert not DeliveryPartner.objects.filter(dfe_cohort="2026").exists()


def test_a_facilitator_of_the_hub_neither_declares_nor_voids(
    client, accepted, course, django_capture_on_commit_callbacks
):
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare(participant, "started", by=None)
    facilitator = HubStaffFactory(hub=course.cohort.hub, hub__role=HubMembership.Role.FACILITATOR)
    client.force_login(facilitator)
    client.post(
        reverse("admin:dfe_declaration_participant", args=[participant.pk]),
        {"declaration_type": "retained-1", "override_reason": "crafted"},
    )
    client.post(reverse("admin:dfe_declaration_void", args=[declaration.pk]), {"reason": "crafted"})
    declaration.refresh_from_db()
    assert declaration.state != Declaration.State.VOIDED
    assert Declaration.objects.count() == 1


def test_the_assurance_pack_gives_a_withdrawn_participants_reason(
    client, accepted, course, django_capture_on_commit_callbacks
):
    from programmes.services import participant_withdraw

    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    staff = HubStaffFactory(hub=course.cohort.hub)
    with django_capture_on_commit_callbacks(execute=True):
        declare(participant, "started", by=staff)
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(
            participant=participant, reason="quality-of-programme-structure-not-suitable.", by=staff
        )
    client.force_login(staff)
    pack = client.get(reverse("admin:dfe_declaration_assurance", args=[course.cohort.pk]))
    (row,) = list(csv.DictReader(io.StringIO(pack.content.decode())))
    assert row["Training Status"] == "withdrawn"
    assert row["Training Status Reason"] == "quality-of-programme-structure-not-suitable."
    assert DfeApplication.objects.get(pk=dfe_app.pk).training_status == "withdrawn"


def test_the_dfe_token_is_not_in_the_clients_repr():
    # A client in a traceback's local variables (an error email, the debug page) must not carry it.
    client = DfeClient(base_url="http://127.0.0.1:1", token="secret-token-never-shown")
    assert "secret-token-never-shown" not in repr(client)


def test_the_fakes_state_page_shows_the_declarations_dfe_was_sent(
    accepted, course, fake_dfe, django_capture_on_commit_callbacks
):
    """The demo's window on DfE's side (README, *The demo with a fake DfE*) shows declarations too."""
    import json
    import urllib.request

    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare(participant, "started", by=None)
    with urllib.request.urlopen(f"{fake_dfe.url}/_fake/state") as answer:  # noqa: S310 - 127.0.0.1
        state = json.load(answer)
    (sent,) = state["declarations"]
    assert sent["id"] == str(Declaration.objects.get(pk=declaration.pk).dfe_id)
    assert sent["declaration_type"] == "started" and sent["participant_id"] == str(dfe_app.participant_id)
    assert sent["delivery_partner_id"] == str(declaration.delivery_partner_id)


def test_voiding_completed_drops_an_outcome_not_sent_yet(
    accepted, course, fake_dfe, django_capture_on_commit_callbacks
):
    """DfE clears a voided completed declaration's outcome: the portal must not send it later."""
    from dfe.declarations import send_outcome, void

    remote, participant, dfe_app = accepted
    with django_capture_on_commit_callbacks(execute=True):
        completed = declare(
            participant, "completed", by=None, has_passed=True, override_reason="Paper results"
        )
    # The result was changed to a fail while DfE was away: the outcome waits for the sweep.
    Declaration.objects.filter(pk=completed.pk).update(has_passed=False, outcome_pending=True)
    void(completed, reason="Declared for the wrong participant.", by=None)
    send_outcome(completed.pk)
    assert not [path for method, path in fake_dfe.fake.requests if path.endswith("/outcomes")]
    completed.refresh_from_db()
    assert completed.state == Declaration.State.VOIDED and not completed.outcome_pending
