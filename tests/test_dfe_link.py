# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""The link to DfE's lead provider API v3, over real HTTP against the fake DfE, with every request
and answer checked against DfE's published schema (tests/dfe_support.py): who is who
(the lead provider's token) and reading DfE's applications (the sync). Accepting, rejecting and
sending changes: test_dfe_link_writes.py; participant changes: test_dfe_link_participants.py;
the client and the fake's DfE rules: test_dfe_link_client.py."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from applications.models import Application
from applications.services import application_accept
from dfe import sync as dfe_sync
from dfe.models import DfeApplication, LeadProviderAccount, SyncRun
from dfe.services import token_set
from dfe.sync import sync_all, sync_applications
from notifications.models import Notification
from tests.conftest import need
from tests.dfe_support import (  # noqa: F401 - the fixtures
    accepted_through_dfe,
    account,
    course,
    dfe_application,
    endorsed,
    fake_dfe,
)
from tests.factories import ApplicationFactory, UserFactory

S = Application.Status


# --- who is who ----------------------------------------------------------------------------


def test_token_is_stored_encrypted_and_read_back(fake_dfe, account):
    account.refresh_from_db()
    assert "secret-token-ambition" not in account.token_encrypted
    from dfe.crypto import decrypt_token

    assert decrypt_token(account.token_encrypted) == "secret-token-ambition"


def test_without_a_key_a_token_cannot_be_stored(settings, course):
    settings.DFE_TOKEN_KEY = ""
    from dfe.crypto import TokenKeyMissing

    with pytest.raises(TokenKeyMissing, match="DFE_TOKEN_KEY is not set"):
        token_set(lead_provider=course.cohort.hub.lead_provider, token="x")
    assert not LeadProviderAccount.objects.exclude(token_encrypted="").exists()


def test_an_unreadable_token_is_told_not_raised(fake_dfe, account, settings):
    settings.DFE_TOKEN_KEY = Fernet.generate_key().decode()  # the key changed since the token was stored
    run = sync_applications(account=account)
    assert run.error == "The stored DfE API token cannot be read with the current DFE_TOKEN_KEY."


# --- applications from DfE -----------------------------------------------------------------


def test_sync_pages_through_creates_then_updates_and_runs_twice_safely(fake_dfe, account, monkeypatch):
    monkeypatch.setattr(dfe_sync, "PAGE", 2)
    made = [dfe_application(fake_dfe, email=f"t{i}@school.example", trn=f"100000{i}") for i in range(5)]
    run = sync_applications(account=account)
    assert (run.pulled, run.created, run.updated, run.failed, run.error) == (5, 5, 0, 0, "")
    assert run.pages >= 3
    assert DfeApplication.objects.count() == 5

    again = sync_applications(account=account)
    assert (again.pulled, again.created, again.updated) == (0, 0, 0)  # the boundary record is not counted
    assert DfeApplication.objects.count() == 5

    fake_dfe.fake.touch(made[1]["id"], email="new@school.example")
    changed = sync_applications(account=account)
    assert (changed.created, changed.updated) == (0, 1)
    assert DfeApplication.objects.get(dfe_id=made[1]["id"]).email == "new@school.example"
    assert fake_dfe.checker.checked > 0


def test_a_worker_killed_mid_page_loses_nothing(fake_dfe, account, monkeypatch):
    monkeypatch.setattr(dfe_sync, "PAGE", 3)
    for i in range(5):
        dfe_application(fake_dfe, email=f"t{i}@school.example", trn=f"100000{i}")
    real_store = dfe_sync.store_application
    calls = {"n": 0}

    def dies_on_fifth(lead_provider_id, row):
        calls["n"] += 1
        if calls["n"] == 5:  # the second page: its first new row stored, then the worker dies
            raise RuntimeError("worker killed")
        return real_store(lead_provider_id, row)

    monkeypatch.setattr(dfe_sync, "store_application", dies_on_fifth)
    with pytest.raises(RuntimeError):
        sync_applications(account=account)
    account.refresh_from_db()
    # The first page is stored with its cursor; the second page left nothing half-written.
    assert DfeApplication.objects.count() == 3
    assert (
        account.applications_cursor
        == DfeApplication.objects.order_by("-dfe_updated_at").first().dfe_updated_at
    )

    monkeypatch.setattr(dfe_sync, "store_application", real_store)
    sync_applications(account=account)
    assert DfeApplication.objects.count() == 5

    # The dead run is told as such once its time is up (the next scheduled run says so).
    dead = SyncRun.objects.order_by("pk").first()
    SyncRun.objects.filter(pk=dead.pk).update(
        finished_at=None, started_at=timezone.now() - timedelta(hours=1)
    )
    assert dfe_sync.sync_runs_close_abandoned() == 1
    dead.refresh_from_db()
    assert dead.error.startswith("Did not finish") and dead.pages == 1 and dead.created == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_syncs_at_once_store_each_application_once(fake_dfe, course):
    need(connection.vendor == "postgresql", "PostgreSQL")
    fake_dfe.fake.add_provider("Ambition", "secret-token-ambition")
    account = token_set(lead_provider=course.cohort.hub.lead_provider, token="secret-token-ambition")
    for i in range(6):
        dfe_application(fake_dfe, email=f"t{i}@school.example", trn=f"100000{i}")
    errors = []

    def run():
        try:
            sync_applications(account=LeadProviderAccount.objects.get(pk=account.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert DfeApplication.objects.count() == 6
    assert sum(SyncRun.objects.values_list("created", flat=True)) == 6
    assert Notification.objects.filter(kind="dfe_invitation").count() == 6


def test_links_by_trn_and_email_and_invites_the_others_once(fake_dfe, account, course):
    application = endorsed(course)
    linked = dfe_application(fake_dfe)
    waiting = dfe_application(fake_dfe, email="bo@school.example", trn="7654321", full_name="Bo Bell")
    other_npq = dfe_application(
        fake_dfe, course_identifier="npq-headship", email="c@school.example", trn="1112223"
    )
    sync_applications(account=account)
    assert DfeApplication.objects.get(dfe_id=linked["id"]).application == application
    assert DfeApplication.objects.get(dfe_id=waiting["id"]).application is None
    invitations = Notification.objects.filter(kind="dfe_invitation")
    assert sorted(invitations.values_list("recipient", flat=True)) == [
        "bo@school.example",
        "c@school.example",
    ]
    assert (
        "fill in our short application within 5 days"
        in invitations.get(recipient="bo@school.example").body_text
    )
    fake_dfe.fake.touch(waiting["id"], full_name="Bo Bell-Smith")
    sync_applications(account=account)
    assert invitations.count() == 2
    assert DfeApplication.objects.get(dfe_id=other_npq["id"]).application is None


def test_submitting_the_portal_form_links_the_waiting_dfe_application(fake_dfe, account, course):
    from applications.services import application_submit
    from tests.factories import northfield_schools

    northfield_schools()
    remote = dfe_application(fake_dfe)
    sync_applications(account=account)
    application = ApplicationFactory(course=course, user=UserFactory(email="Alice@School.example"))
    application_submit(application=application, by=application.user)
    assert DfeApplication.objects.get(dfe_id=remote["id"]).application_id == application.pk


def test_link_off_the_portal_works_alone(settings, course, django_capture_on_commit_callbacks):
    settings.DFE_API_URL = ""
    application = endorsed(course)
    with django_capture_on_commit_callbacks(execute=True):
        application_accept(application=application, by=None)
    assert Application.objects.get(pk=application.pk).status == S.ACCEPTED
    assert sync_all() == 0


def test_ids_are_uuids(fake_dfe, account):
    made = dfe_application(fake_dfe)
    sync_applications(account=account)
    assert DfeApplication.objects.get().dfe_id == uuid.UUID(made["id"])


def test_a_row_that_cannot_be_stored_is_counted_as_failed_and_the_rest_stored(fake_dfe, account):
    good = dfe_application(fake_dfe)
    bad = dfe_application(fake_dfe, email="b@school.example")

    class Client:  # DfE's answer with one broken row (not schema-valid, so not from the fake)
        def applications_page(self, *, updated_since=None, page=1, per_page=100):
            rows = [
                {
                    "id": good["id"],
                    "type": "npq_application",
                    "attributes": fake_dfe.fake.status_of(good["id"]),
                },
                {"id": bad["id"], "type": "npq_application", "attributes": {"participant_id": "not-a-uuid"}},
            ]
            return rows if updated_since is None else []

    run = sync_applications(account=account, client=Client())
    assert (run.pulled, run.created, run.failed, run.error) == (2, 1, 1, "")
    assert list(DfeApplication.objects.values_list("dfe_id", flat=True)) == [uuid.UUID(good["id"])]


def test_training_status_and_schedule_changed_at_dfe_are_read_back(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    remote, _ = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    assert sync_all() == 1  # the application as DfE accepted it, then its participant
    assert DfeApplication.objects.get().training_status == "active"
    with fake_dfe.fake.lock:  # DfE's side changes (e.g. DfE's support team acted)
        fake_dfe.fake.applications[remote["id"]]["enrolment"]["training_status"] = "deferred"
    fake_dfe.fake.touch(remote["id"], schedule_identifier="npq-specialist-spring")
    sync_all()
    row = DfeApplication.objects.get()
    assert (row.training_status, row.schedule_identifier) == ("deferred", "npq-specialist-spring")
    assert LeadProviderAccount.objects.get().participants_cursor is not None


def test_the_scheduled_jobs_record_their_runs(fake_dfe, account, settings):
    from dfe.tasks import send_changes
    from dfe.tasks import sync_applications as sync_task
    from notifications.models import JobRun

    dfe_application(fake_dfe)
    dfe_application(fake_dfe, email="b@school.example", trn="7654321")
    assert sync_task.delay().get() == 2
    assert send_changes.delay().get() == 0
    assert list(JobRun.objects.order_by("pk").values_list("job", "sent", "error")) == [
        ("sync_applications", 2, ""),
        ("send_changes", 0, ""),
    ]
    settings.DFE_API_URL = ""  # the link off: the jobs still run (and record), doing nothing
    assert sync_task.delay().get() == 0
