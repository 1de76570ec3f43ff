"""Who is who: a lead provider's staff administer all its hubs; hub staff see where each DfE
application of their hub stands; the DfE pages are scoped, fixed in queries, and in words."""

from __future__ import annotations

import io
import uuid

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from dfe.models import DfeApplication, DfeWrite, LeadProviderAccount
from dfe.services import lead_provider_staff_add, lead_provider_staff_remove
from programmes.models import Cohort
from programmes.selectors import administered, visible_to
from tests.factories import (
    ApplicationFactory,
    CourseFactory,
    HubFactory,
    HubStaffFactory,
    LeadProviderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def dfe_row(lead_provider, *, application=None, name="Bo Bell", **kwargs) -> DfeApplication:
    now = timezone.now()
    values = {
        "dfe_id": uuid.uuid4(),
        "lead_provider": lead_provider,
        "participant_id": uuid.uuid4(),
        "course_identifier": "npq-headship",
        "cohort": "2025",
        "cohort_suffix": "a",
        "full_name": name,
        "email": f"{uuid.uuid4().hex[:8]}@school.example",
        "trn": "1234567",
        "dfe_updated_at": now,
        "first_seen_at": now,
        "last_seen_at": now,
        "application": application,
        **kwargs,
    }
    return DfeApplication.objects.create(**values)


@pytest.fixture
def provider():
    return LeadProviderFactory(name="Ambition")


def test_lead_provider_staff_administer_every_hub_of_the_provider_and_no_other(provider):
    north, south = HubFactory(lead_provider=provider), HubFactory(lead_provider=provider)
    elsewhere = HubFactory()
    cohorts = [CourseFactory(cohort__hub=hub).cohort for hub in (north, south, elsewhere)]
    lee = UserFactory(is_staff=True)
    lead_provider_staff_add(lead_provider=provider, user=lee)
    lee.refresh_from_db()
    assert lee.is_staff and lee.groups.filter(name="Lead provider staff").exists()
    assert set(administered(Cohort.objects.all(), lee)) == set(cohorts[:2])
    later = HubFactory(lead_provider=provider)  # a hub added later is theirs too
    later_cohort = CourseFactory(cohort__hub=later).cohort
    assert later_cohort in visible_to(Cohort.objects.all(), lee)
    assert cohorts[2] not in visible_to(Cohort.objects.all(), lee)
    assert LeadProviderAccount.objects.filter(lead_provider=provider).exists()

    lead_provider_staff_remove(staff=lee.lead_provider_roles.get())
    assert not visible_to(Cohort.objects.all(), lee).exists()


def test_dfe_applications_list_is_scoped_and_in_words(client, provider, django_assert_max_num_queries):
    hub = HubFactory(lead_provider=provider)
    course = CourseFactory(cohort__hub=hub)
    application = ApplicationFactory(course=course)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.ENDORSED)
    linked = dfe_row(provider, application=application, name="Linked Teacher")
    waiting = dfe_row(provider, name="Waiting Teacher", invited_at=timezone.now())
    other = dfe_row(LeadProviderFactory(), name="Other Provider Teacher")
    url = reverse("admin:dfe_dfeapplication_changelist")

    hub_admin = HubStaffFactory(hub=hub)
    client.force_login(hub_admin)
    page = client.get(url)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [linked]
    assert "Waiting for the hub&#x27;s decision" in page.content.decode()

    lee = UserFactory(is_staff=True)
    lead_provider_staff_add(lead_provider=provider, user=lee)
    client.force_login(lee)
    page = client.get(url)
    assert set(page.context["cl"].result_list) == {linked, waiting}
    assert "Waiting for the portal&#x27;s application (invited on" in page.content.decode()
    assert other.full_name not in page.content.decode()
    assert client.get(reverse("admin:dfe_dfeapplication_change", args=[other.pk])).status_code == 302

    for i in range(10):
        dfe_row(provider, name=f"More {i}")
    with django_assert_max_num_queries(9):
        assert client.get(url).status_code == 200
    for i in range(40):
        dfe_row(provider, name=f"Yet more {i}")
    with django_assert_max_num_queries(9):
        assert client.get(url).status_code == 200


def test_a_refused_change_is_shown_in_words(client, provider):
    hub = HubFactory(lead_provider=provider)
    application = ApplicationFactory(course=CourseFactory(cohort__hub=hub))
    Application.objects.filter(pk=application.pk).update(status=Application.Status.REJECTED)
    row = dfe_row(provider, application=application)
    DfeWrite.objects.create(
        dfe_application=row,
        action="reject",
        payload={},
        state="refused",
        error="Once accepted an application cannot change state.",
        created_at=timezone.now(),
    )
    client.force_login(HubStaffFactory(hub=hub))
    page = client.get(reverse("admin:dfe_dfeapplication_changelist")).content.decode()
    assert "Not accepted here; DfE refused it: Once accepted an application cannot change state." in page


def test_the_token_form_says_when_the_key_is_missing_and_never_shows_the_token(client, provider, settings):
    account = LeadProviderAccount.objects.create(lead_provider=provider)
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:dfe_leadprovideraccount_change", args=[account.pk])
    settings.DFE_TOKEN_KEY = ""
    page = client.post(url, {"token": "abc-secret", "applications_cursor_0": "", "applications_cursor_1": ""})
    assert page.status_code == 200
    assert "DFE_TOKEN_KEY is not set" in page.content.decode()
    account.refresh_from_db()
    assert not account.has_token

    settings.DFE_TOKEN_KEY = Fernet.generate_key().decode()
    page = client.post(url, {"token": "abc-secret", "applications_cursor_0": "", "applications_cursor_1": ""})
    assert page.status_code == 302
    account.refresh_from_db()
    assert account.has_token and "abc-secret" not in account.token_encrypted
    assert "abc-secret" not in client.get(url).content.decode()


def test_the_token_command_reads_standard_input(provider, settings, monkeypatch):
    settings.DFE_TOKEN_KEY = Fernet.generate_key().decode()
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin-token\n"))
    out = io.StringIO()
    call_command("dfe_set_token", "Ambition", stdout=out)
    from dfe.crypto import decrypt_token

    assert decrypt_token(LeadProviderAccount.objects.get().token_encrypted) == "from-stdin-token"
    with pytest.raises(CommandError, match="No lead provider called"):
        call_command("dfe_set_token", "Nobody")
    # A token that cannot go in an HTTP header is refused here too, as at the admin form's field.
    monkeypatch.setattr("sys.stdin", io.StringIO("“smart-quoted-token”\n"))
    with pytest.raises(CommandError, match="character DfE tokens never have"):
        call_command("dfe_set_token", "Ambition")
    assert decrypt_token(LeadProviderAccount.objects.get().token_encrypted) == "from-stdin-token"


def test_a_retry_after_that_is_not_a_number_of_seconds_backs_off_as_usual():
    from unittest import mock

    from dfe.client import DfeClient

    waits: list[float] = []
    client = DfeClient(
        base_url="http://127.0.0.1:9",
        token="t",
        backoff_seconds=1.0,
        backoff_cap_seconds=8.0,
        sleep=waits.append,
    )
    for header in ("²", "Wed, 21 Oct 2026 07:28:00 GMT", "3"):
        client._wait(1, mock.Mock(headers={"Retry-After": header}))
    assert len(waits) == 3 and all(0 <= wait <= 8.0 for wait in waits) and waits[2] == 3.0


def test_sync_command_says_when_the_link_is_off(settings):
    settings.DFE_API_URL = ""
    with pytest.raises(CommandError, match="The link to DfE is off"):
        call_command("dfe_sync")


def test_the_pages_of_a_dfe_application_and_a_change_are_in_words(client, provider):
    hub = HubFactory(lead_provider=provider)
    application = ApplicationFactory(course=CourseFactory(cohort__hub=hub))
    Application.objects.filter(pk=application.pk).update(status=Application.Status.REJECTED)
    row = dfe_row(
        provider,
        application=application,
        schedule_identifier="npq-leadership-spring",
        training_status="withdrawn",
    )
    write = DfeWrite.objects.create(
        dfe_application=row,
        action="withdraw",
        payload={
            "course_identifier": "npq-headship",
            "reason": "quality-of-programme-structure-not-suitable.",
        },
        state="done",
        created_at=timezone.now(),
    )
    client.force_login(HubStaffFactory(hub=hub))
    page = client.get(reverse("admin:dfe_dfeapplication_change", args=[row.pk])).content.decode()
    assert "Leadership NPQs starting in spring" in page and "Withdrawn" in page
    assert "npq-leadership-spring" not in page
    page = client.get(reverse("admin:dfe_dfewrite_change", args=[write.pk])).content.decode()
    assert "Reason: quality of programme: structure not suitable" in page
    assert "course_identifier" not in page
