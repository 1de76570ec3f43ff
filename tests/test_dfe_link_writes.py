# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""The link to DfE's lead provider API v3, over real HTTP against the fake DfE, with every request
and answer checked against DfE's published schema (tests/dfe_support.py): the portal's
decisions sent to DfE as recorded writes (accept, reject), each sent once: an uncertain result is
read back before anything is sent again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from applications.services import application_accept, application_reject
from dfe.client import DfeClient, DfeUncertain
from dfe.models import DfeApplication, DfeWrite
from dfe.services import token_set
from dfe.sync import sync_applications
from dfe.writes import send_write
from programmes.services import participant_withdraw
from tests.conftest import need
from tests.dfe_support import (  # noqa: F401 - the fixtures
    accepted_through_dfe,
    account,
    course,
    dfe_application,
    endorsed,
    fake_dfe,
)
from tests.factories import CourseFactory

W = DfeWrite.State


# --- accept and reject ---------------------------------------------------------------------


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


# --- sent once: uncertain results read back, one sender at a time --------------------------


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


# --- staff ---------------------------------------------------------------------------------


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
