"""The link to DfE's lead provider API v3, over real HTTP against the fake DfE, with every request
and answer checked against DfE's published schema (tests/dfe_support.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import requests
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from applications.models import Application
from applications.services import application_accept, application_reject
from dfe import sync as dfe_sync
from dfe.client import DfeClient, DfeRefused, DfeUncertain
from dfe.models import DfeApplication, DfeWrite, LeadProviderAccount, SyncRun
from dfe.services import token_set
from dfe.sync import sync_all, sync_applications
from dfe.writes import send_write
from funding.models import FundingDecision
from notifications.models import Notification
from programmes.services import participant_defer, participant_resume, participant_withdraw
from tests import dfe_support
from tests.conftest import need
from tests.factories import ApplicationFactory, CourseFactory, GroupFactory, LeadProviderFactory, UserFactory

S = Application.Status
W = DfeWrite.State


@pytest.fixture
def fake_dfe(settings):
    yield from dfe_support.serve(settings)


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
        status=S.ENDORSED, trn=trn, full_name="Alice Adeyemi", funding_decision=decision
    )
    return Application.objects.get(pk=application.pk)


def accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks):
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        application_accept(application=application, by=None)
    return remote, Application.objects.get(pk=application.pk)


# --- who is who ---------------------------------------------------------------------------


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


# --- applications from DfE ------------------------------------------------------------------


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


# --- accept and reject --------------------------------------------------------------------


def test_accepting_in_the_portal_accepts_at_dfe_with_funded_place_and_schedule(
    fake_dfe,
    account,
    course,
    django_capture_on_commit_callbacks,
):
    remote, application = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    at_dfe = fake_dfe.fake.status_of(remote["id"])
    assert at_dfe["status"] == "accepted"
    assert at_dfe["funded_place"] is application.funded_place is True
    assert at_dfe["schedule_identifier"] == "npq-specialist-autumn"
    write = DfeWrite.objects.get()
    assert (write.action, write.state, write.attempts) == ("accept", W.DONE, 1)
    assert DfeApplication.objects.get().status == "accepted"


def test_rejecting_in_the_portal_rejects_at_dfe(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        application_reject(application=application, by=None, reason="Not suitable for this NPQ")
    assert fake_dfe.fake.status_of(remote["id"])["status"] == "rejected"


def test_a_refusal_from_dfe_leaves_the_decision_pending_with_the_reason(
    fake_dfe,
    account,
    course,
    django_capture_on_commit_callbacks,
):
    from dfe.selectors import standing, with_last_write

    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    fake_dfe.fake.touch(remote["id"], status="rejected")  # rejected at DfE meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        application_accept(application=application, by=None)
    write = DfeWrite.objects.get()
    assert write.state == W.REFUSED
    assert write.error == "Once rejected an application cannot change state."
    row = with_last_write(DfeApplication.objects.all()).get()
    assert standing(row) == (
        "Accepted here; DfE refused it: Once rejected an application cannot change state. "
        "The decision is pending at DfE until this is put right."
    )


def test_an_uncertain_accept_is_read_back_not_sent_again(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        application_accept(application=application, by=None)
    assert callbacks  # the send is queued after commit; here it is sent by hand
    write = DfeWrite.objects.get()
    fake_dfe.fake.act_then_fail()  # DfE accepts, its answer is lost
    with pytest.raises(DfeUncertain):
        send_write(write.pk)
    write.refresh_from_db()
    assert write.state == W.UNCERTAIN
    send_write(write.pk)  # the retry (or the sweep)
    write.refresh_from_db()
    assert write.state == W.DONE
    posts = [path for method, path in fake_dfe.fake.requests if method == "POST"]
    assert posts == [f"/api/v3/npq-applications/{remote['id']}/accept"]
    assert send_write(write.pk) is None  # settled: never sent again


def test_a_timeout_is_uncertain_and_reconciled(
    fake_dfe, account, course, settings, django_capture_on_commit_callbacks
):
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    with django_capture_on_commit_callbacks(execute=False):
        application_accept(application=application, by=None)
    write = DfeWrite.objects.get()
    settings.DFE_READ_TIMEOUT = 0.3  # only for the send: DfE acts, then answers too late
    release = threading.Event()
    fake_dfe.fake.act_then_stall(release)
    try:
        with pytest.raises(DfeUncertain, match="did not answer in time"):
            send_write(write.pk)
    finally:
        release.set()
    settings.DFE_READ_TIMEOUT = 30
    send_write(write.pk)
    write.refresh_from_db()
    assert write.state == W.DONE
    assert [m for m, p in fake_dfe.fake.requests if p.endswith("/accept")] == ["POST"]
    assert fake_dfe.fake.status_of(remote["id"])["status"] == "accepted"


def test_a_server_error_before_acting_is_checked_then_sent(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    with django_capture_on_commit_callbacks(execute=False):
        application_accept(application=application, by=None)
    write = DfeWrite.objects.get()
    fake_dfe.fake.fail_next(500)
    with pytest.raises(DfeUncertain):
        send_write(write.pk)
    fake_dfe.fake.requests.clear()
    send_write(write.pk)
    methods = [m for m, _ in fake_dfe.fake.requests]
    assert methods == ["GET", "POST"]  # read back first (still pending), then sent
    write.refresh_from_db()
    assert write.state == W.DONE


# --- the client ---------------------------------------------------------------------------


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


# --- participant changes ------------------------------------------------------------------


def test_withdrawal_needs_a_started_declaration_then_reaches_dfe_with_its_reason(
    fake_dfe,
    account,
    course,
    django_capture_on_commit_callbacks,
):
    remote, application = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    participant = application.participant
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(participant=participant, reason="quality-of-programme-structure-not-suitable.")
    write = DfeWrite.objects.get(action="withdraw")
    assert write.state == W.REFUSED
    assert "only after a started declaration" in write.error
    assert not [p for m, p in fake_dfe.fake.requests if m == "PUT"]  # checked before the call

    fake_dfe.fake.add_declaration(application_id=remote["id"], declaration_type="started")
    DfeWrite.objects.filter(pk=write.pk).update(state=W.QUEUED, error="")
    send_write(write.pk)
    enrolment = fake_dfe.fake.enrolment_of(remote["id"])
    assert enrolment["training_status"] == "withdrawn"
    assert enrolment["withdrawal"]["reason"] == "quality-of-programme-structure-not-suitable."


def test_defer_resume_and_change_schedule_reach_dfe(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    from dfe.services import participant_change_schedule

    remote, application = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    fake_dfe.fake.add_declaration(application_id=remote["id"])
    participant = application.participant
    with django_capture_on_commit_callbacks(execute=True):
        participant_defer(participant=participant, reason="parental-leave")
    assert fake_dfe.fake.enrolment_of(remote["id"])["deferral"]["reason"] == "parental-leave"
    with django_capture_on_commit_callbacks(execute=True):
        participant_resume(participant=participant)
    assert fake_dfe.fake.enrolment_of(remote["id"])["training_status"] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        participant_change_schedule(participant=participant, schedule_identifier="npq-specialist-spring")
    assert fake_dfe.fake.status_of(remote["id"])["schedule_identifier"] == "npq-specialist-spring"
    assert list(DfeWrite.objects.values_list("action", "state")) == [
        ("accept", "done"),
        ("defer", "done"),
        ("resume", "done"),
        ("change_schedule", "done"),
    ]


def test_changes_to_one_application_go_in_order(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    fake_dfe.fake.add_declaration(application_id=remote["id"])
    with django_capture_on_commit_callbacks(execute=False):
        application = application_accept(application=application, by=None)
    with django_capture_on_commit_callbacks(execute=False):
        participant_defer(participant=application.participant, reason="bereavement")
    accept, defer = DfeWrite.objects.order_by("pk")
    send_write(defer.pk)  # its task ran first: it waits for the accept
    defer.refresh_from_db()
    assert defer.state == W.QUEUED and defer.attempts == 0
    from dfe.writes import send_open_writes

    assert send_open_writes() == 2
    assert fake_dfe.fake.enrolment_of(remote["id"])["training_status"] == "deferred"


def test_the_portals_reasons_are_dfes():
    from programmes.services import DEFERRAL_REASONS, WITHDRAWAL_REASONS
    from tests.dfe_support import contract_dict

    schemas = contract_dict()["components"]["schemas"]
    withdraw = schemas["ParticipantWithdrawRequest"]["properties"]["data"]["properties"]["attributes"]
    defer = schemas["ParticipantDeferRequest"]["properties"]["data"]["properties"]["attributes"]
    assert list(WITHDRAWAL_REASONS) == withdraw["properties"]["reason"]["enum"]
    assert len(WITHDRAWAL_REASONS) == 21
    assert "quality-of-programme-structure-not-suitable." in WITHDRAWAL_REASONS
    assert list(DEFERRAL_REASONS) == defer["properties"]["reason"]["enum"]


def test_a_schedule_and_cohort_for_each_programme(db):
    from datetime import date

    from dfe.identifiers import COURSE_IDENTIFIERS, dfe_cohort, schedule_identifier
    from programmes.models import Cohort, Programme
    from tests.dfe_support import contract_dict

    enum = contract_dict()["components"]["schemas"]["Application"]["properties"]["attributes"]["properties"][
        "course_identifier"
    ]["enum"]
    assert set(COURSE_IDENTIFIERS.values()) <= set(enum)
    assert set(COURSE_IDENTIFIERS) == set(Programme.objects.values_list("code", flat=True))
    spring = Cohort(start_date=date(2026, 2, 1))
    autumn = Cohort(start_date=date(2025, 10, 1))
    assert dfe_cohort(spring) == ("2025", "a") == dfe_cohort(autumn)
    assert schedule_identifier(Programme.objects.get(code="NPQH"), spring) == "npq-leadership-spring"
    assert schedule_identifier(Programme.objects.get(code="NPQLL"), autumn) == "npq-specialist-autumn"
    assert schedule_identifier(Programme.objects.get(code="EHCO"), Cohort(start_date=date(2025, 11, 3))) == (
        "npq-ehco-november"
    )


def test_ids_are_uuids(fake_dfe, account):
    made = dfe_application(fake_dfe)
    sync_applications(account=account)
    assert DfeApplication.objects.get().dfe_id == uuid.UUID(made["id"])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_senders_at_once_send_a_change_once(fake_dfe, course):
    need(connection.vendor == "postgresql", "PostgreSQL")
    fake_dfe.fake.add_provider("Ambition", "secret-token-ambition")
    account = token_set(lead_provider=course.cohort.hub.lead_provider, token="secret-token-ambition")
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    sync_applications(account=account)
    from dfe import writes

    queued = []
    original = writes._queue
    writes._queue = queued.append  # the senders below stand in for the task
    try:
        application_accept(application=application, by=None)
    finally:
        writes._queue = original
    (write_id,) = queued
    release, reached = threading.Event(), threading.Event()
    fake_dfe.fake.act_then_stall(release, reached)
    results = []

    def first_sender():
        try:
            results.append(send_write(write_id))
        finally:
            connection.close()

    thread = threading.Thread(target=first_sender)
    thread.start()
    assert reached.wait(timeout=10)  # the first sender is waiting for DfE's answer, row locked
    assert send_write(write_id) is None  # the second skips it
    release.set()
    thread.join()
    assert results[0].state == W.DONE
    assert [m for m, p in fake_dfe.fake.requests if p.endswith("/accept")] == ["POST"]
    assert fake_dfe.fake.status_of(remote["id"])["status"] == "accepted"


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


def test_staff_send_a_refused_change_again_once_put_right(
    client, fake_dfe, account, course, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.factories import HubStaffFactory

    remote, application = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(participant=application.participant, reason="change-in-career")
    refused = DfeWrite.objects.get(action="withdraw", state=W.REFUSED)
    fake_dfe.fake.add_declaration(application_id=remote["id"])  # the started declaration, made at DfE
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("admin:dfe_dfewrite_changelist"),
            {"action": "send_again", "_selected_action": [refused.pk]},
            follow=True,
        )
    assert "1 change sent to DfE again." in page.content.decode()
    assert fake_dfe.fake.enrolment_of(remote["id"])["withdrawal"]["reason"] == "change-in-career"
    refused.refresh_from_db()
    assert refused.state == W.REFUSED  # the refusal stays on record
    assert DfeWrite.objects.filter(action="withdraw", state=W.DONE).count() == 1

    client.force_login(HubStaffFactory(hub=CourseFactory().cohort.hub))  # another hub's staff
    page = client.post(
        reverse("admin:dfe_dfewrite_changelist"),
        {"action": "send_again", "_selected_action": [refused.pk]},
        follow=True,
    )
    assert DfeWrite.objects.filter(action="withdraw").count() == 2


def test_the_whole_journey_from_dfe_to_acceptance_and_withdrawal(
    fake_dfe, account, course, django_capture_on_commit_callbacks
):
    """Issue 16's demo as a test: a teacher registered with DfE appears in the portal and is
    invited, fills in the portal's form, is endorsed and accepted; DfE shows the acceptance with
    the funded place and schedule; a withdrawal reaches DfE with its reason."""
    from applications.services import application_submit, endorsement_answer
    from dfe.selectors import standing, with_last_write
    from funding.models import EligibilityListEntry
    from tests.factories import HubStaffFactory, northfield_schools

    northfield_schools()
    EligibilityListEntry.objects.create(
        funding_round=course.cohort.funding_round, kind="pp50_school", identifier="137001"
    )

    def where() -> str:
        return standing(with_last_write(DfeApplication.objects.select_related("application")).get())

    remote = dfe_application(fake_dfe)
    with django_capture_on_commit_callbacks(execute=True):
        sync_applications(account=account)
    assert where().startswith("Waiting for the portal's application (invited on")
    assert Notification.objects.filter(kind="dfe_invitation", recipient="alice@school.example").exists()

    application = ApplicationFactory(course=course, user=UserFactory(email="alice@school.example"))
    with django_capture_on_commit_callbacks(execute=True):
        application_submit(application=application, by=application.user)
    assert where() == "Waiting for endorsement"

    with django_capture_on_commit_callbacks(execute=True):
        endorsement_answer(
            endorsement=application.endorsements.get(),
            user=UserFactory(email="hana@school.example"),
            endorse=True,
        )
    assert where() == "Waiting for the hub's decision"

    staff = HubStaffFactory(hub=course.cohort.hub)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = application_accept(application=Application.objects.get(pk=application.pk), by=staff)
    at_dfe = fake_dfe.fake.status_of(remote["id"])
    assert (at_dfe["status"], at_dfe["funded_place"], at_dfe["schedule_identifier"]) == (
        "accepted",
        True,
        "npq-specialist-autumn",
    )
    assert where() == "Accepted (DfE has it)"

    fake_dfe.fake.add_declaration(application_id=remote["id"], declaration_type="started")
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(
            participant=accepted.participant, reason="quality-of-programme-structure-not-suitable.", by=staff
        )
    enrolment = fake_dfe.fake.enrolment_of(remote["id"])
    assert enrolment["training_status"] == "withdrawn"
    assert enrolment["withdrawal"]["reason"] == "quality-of-programme-structure-not-suitable."
    assert DfeWrite.objects.filter(state=W.DONE).count() == 2


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


def test_staff_change_the_schedule_at_dfe_from_the_dfe_application_page(
    client, fake_dfe, account, course, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.factories import HubStaffFactory

    remote, application = accepted_through_dfe(fake_dfe, course, account, django_capture_on_commit_callbacks)
    row = DfeApplication.objects.get()
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    page = client.get(reverse("admin:dfe_dfeapplication_change", args=[row.pk])).content.decode()
    assert "Specialist NPQs starting in autumn" in page and "change the schedule at DfE" in page
    url = reverse("admin:dfe_dfeapplication_schedule", args=[row.pk])
    form = client.get(url).content.decode()
    assert "Specialist NPQs starting in spring" in form and "Leadership" not in form
    page = client.post(url, {"schedule": "npq-leadership-spring"})
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(url, {"schedule": "npq-specialist-spring"})
    assert page.status_code == 302
    assert fake_dfe.fake.status_of(remote["id"])["schedule_identifier"] == "npq-specialist-spring"

    client.force_login(HubStaffFactory(hub=CourseFactory().cohort.hub))
    assert client.get(url).status_code == 404


def test_a_reject_dfe_has_already_made_is_done_not_refused(fake_dfe, account):
    first = dfe_application(fake_dfe)
    second = dfe_application(fake_dfe, participant_id=first["participant_id"])
    sync_applications(account=account)
    DfeClient(base_url=fake_dfe.url, token="secret-token-ambition", sleep=lambda s: None).accept(
        first["id"], funded_place=True, schedule_identifier=None
    )  # DfE closes the second application itself
    write = DfeWrite.objects.create(
        dfe_application=DfeApplication.objects.get(dfe_id=second["id"]),
        action="reject",
        payload={},
        created_at=timezone.now(),
    )
    send_write(write.pk)
    write.refresh_from_db()
    assert (write.state, write.error) == (W.DONE, "")


def test_an_unreadable_token_is_told_not_raised(fake_dfe, account, settings):
    settings.DFE_TOKEN_KEY = Fernet.generate_key().decode()  # the key changed since the token was stored
    run = sync_applications(account=account)
    assert run.error == "The stored DfE API token cannot be read with the current DFE_TOKEN_KEY."


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
