# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""Declarations backed by evidence (issue 17), sent to the fake DfE over real HTTP with every
request and answer checked against DfE's published schema (tests/dfe_support.py): each
declaration sent once (a lost answer read back, a duplicate at DfE adopted, two submits at once),
voiding, and completed with its outcome once results are released."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from dfe.client import DfeUncertain
from dfe.declarations import (
    DeclarationError,
    declare,
    send_declaration,
    send_open_declarations,
    void,
)
from dfe.models import (
    Declaration,
    DeliveryPartner,
    DfeApplication,
    Evidence,
    Milestone,
    Schedule,
)
from dfe.services import token_set
from tests.conftest import need
from tests.dfe_support import (  # noqa: F401 - the fixtures
    accepted,
    account,
    course,
    dfe_application,
    endorsed,
    fake_dfe,
    first_activity_attended,
)

D = Declaration.State


# --- sent once --------------------------------------------------------------------------------


def test_a_lost_answer_is_read_back_not_sent_again(fake_dfe, accepted):
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    declaration = declare(participant, "started", by=None)
    fake_dfe.fake.act_then_fail(1)
    with pytest.raises(DfeUncertain):
        send_declaration(declaration.pk)
    declaration.refresh_from_db()
    assert declaration.state == D.UNCERTAIN
    assert send_open_declarations() == 1
    declaration.refresh_from_db()
    assert declaration.state == D.ELIGIBLE
    assert len(fake_dfe.fake.declarations) == 1
    posts = [p for m, p in fake_dfe.fake.requests if m == "POST" and p.endswith("participant-declarations")]
    assert len(posts) == 1
    assert send_open_declarations() == 0  # settled: never sent again


def test_duplicate_at_dfe_is_recorded_as_dfe_answered(fake_dfe, accepted):
    """DfE already holds a started declaration made outside the portal: DfE's refusal is kept."""
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    fake_dfe.fake.add_declaration(application_id=remote["id"], declaration_type="started")
    declaration = declare(participant, "started", by=None)
    send_declaration(declaration.pk)
    declaration.refresh_from_db()
    # The portal adopts DfE's own declaration rather than sending a second one.
    assert declaration.dfe_id is not None and declaration.state == D.SUBMITTED
    assert len(fake_dfe.fake.declarations) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_submits_at_once_send_one_declaration(fake_dfe, course, django_capture_on_commit_callbacks):
    need(connection.vendor == "postgresql", "PostgreSQL")
    fake_dfe.fake.add_provider("Ambition", "secret-token-ambition")
    account = token_set(lead_provider=course.cohort.hub.lead_provider, token="secret-token-ambition")
    remote = dfe_application(fake_dfe)
    application = endorsed(course)
    from applications.services import application_accept
    from dfe.sync import sync_applications

    sync_applications(account=account)
    application_accept(application=application, by=None)
    from dfe.writes import send_open_writes

    send_open_writes()
    dfe_app = DfeApplication.objects.get(dfe_id=remote["id"])
    schedule = Schedule.objects.create(
        dfe_cohort=dfe_app.cohort, identifier=dfe_app.schedule_identifier, starts_on=date(2025, 9, 1)
    )
    Milestone.objects.create(schedule=schedule, declaration_type="started", milestone_date=date(2025, 12, 1))
    DeliveryPartner.objects.create(
        hub=course.cohort.hub, dfe_cohort=dfe_app.cohort, delivery_partner_id=uuid.uuid4()
    )
    participant = application.participant if hasattr(application, "participant") else None
    from applications.models import Application

    participant = Application.objects.get(pk=application.pk).participant
    first_activity_attended(participant)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def submit():
        try:
            barrier.wait(timeout=10)
            declaration = declare(participant, "started", by=None)
            outcomes.append(declaration.pk)
        except DeclarationError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Declaration.objects.count() == 1
    assert any(isinstance(o, str) and "already been made" in o for o in outcomes)

    # Two senders at once (the task and the sweep): one call to DfE.
    pk = Declaration.objects.get().pk
    barrier2 = threading.Barrier(2)

    def send():
        try:
            barrier2.wait(timeout=10)
            send_declaration(pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posts = [p for m, p in fake_dfe.fake.requests if m == "POST" and p.endswith("participant-declarations")]
    assert len(posts) == 1
    assert len(fake_dfe.fake.declarations) == 1
    assert Declaration.objects.get().state == D.ELIGIBLE


# --- voiding ----------------------------------------------------------------------------------


def test_voiding_needs_a_reason_and_a_paid_one_awaits_clawback(
    fake_dfe, accepted, django_capture_on_commit_callbacks
):
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare(participant, "started", by=None)
    declaration.refresh_from_db()
    with pytest.raises(DeclarationError, match="reason"):
        void(declaration, reason="  ", by=None)
    fake_dfe.fake.set_declaration_state(str(declaration.dfe_id), "paid")
    voided = void(declaration, reason="Declared for the wrong participant.", by=None)
    assert voided.state == D.AWAITING_CLAWBACK and voided.void_reason.startswith("Declared")
    # Spent: a new started declaration may be made (with new evidence).
    with django_capture_on_commit_callbacks(execute=True):
        again = declare(participant, "started", by=None)
    again.refresh_from_db()
    assert again.state == D.ELIGIBLE and again.evidence_id != declaration.evidence_id
    assert Evidence.objects.count() == 2


# --- outcomes: completed once results are released --------------------------------------------


def test_released_results_send_completed_with_has_passed(
    fake_dfe, accepted, django_capture_on_commit_callbacks
):
    from assessment.models import AssessmentWindow, Entry, Outcome
    from dfe.declarations import declare_outcomes

    remote, participant, dfe_app = accepted
    window = AssessmentWindow.objects.create(course=participant.course, opens_on=date(2026, 6, 1))
    entry = Entry.objects.create(window=window, participant=participant, access=Entry.Access.ENGAGEMENT)
    Outcome.objects.create(entry=entry, result=Outcome.Result.PASSED, decided_at=timezone.now())
    with pytest.raises(DeclarationError, match="needs the assessment outcome"):
        declare(participant, "completed", by=None)  # not released yet
    AssessmentWindow.objects.filter(pk=window.pk).update(results_released_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert declare_outcomes(window=window, by=None) == 1
    declaration = Declaration.objects.get(declaration_type="completed")
    assert declaration.has_passed is True and declaration.state == D.ELIGIBLE
    assert declaration.evidence.content["outcome"]["result"] == "passed"
    sent = fake_dfe.fake.declarations[0]["attributes"]
    assert (sent["declaration_type"], sent["has_passed"]) == ("completed", True)
    # Voiding completed clears the outcome at DfE.
    void(declaration, reason="Outcome entered for the wrong participant.", by=None)
    assert fake_dfe.fake.declarations[0]["attributes"]["has_passed"] is None


def test_releasing_results_declares_completed_or_sends_the_outcome_on_its_own(
    fake_dfe, accepted, django_capture_on_commit_callbacks
):
    """A participant whose completed was declared before the results gets the outcome on its own."""
    from assessment.models import AssessmentWindow, Entry, Outcome
    from dfe.declarations import declare_outcomes

    remote, participant, dfe_app = accepted
    window = AssessmentWindow.objects.create(course=participant.course, opens_on=date(2026, 6, 1))
    entry = Entry.objects.create(window=window, participant=participant, access=Entry.Access.ENGAGEMENT)
    # Completed declared earlier (an outcome given by hand), then the results say failed.
    with django_capture_on_commit_callbacks(execute=True):
        declare(
            participant,
            "completed",
            by=None,
            has_passed=True,
            override_reason="Outcome from the paper register.",
        )
    Outcome.objects.create(entry=entry, result=Outcome.Result.FAILED, decided_at=timezone.now())
    AssessmentWindow.objects.filter(pk=window.pk).update(results_released_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert declare_outcomes(window=window, by=None) == 1
    declaration = Declaration.objects.get(declaration_type="completed")
    assert declaration.has_passed is False and not declaration.outcome_pending
    assert [o["attributes"]["state"] for o in fake_dfe.fake.outcomes] == ["failed"]
    assert fake_dfe.fake.declarations[0]["attributes"]["has_passed"] is False
    assert len(fake_dfe.fake.declarations) == 1  # no second completed declaration


def test_the_release_service_sends_completed(fake_dfe, accepted, django_capture_on_commit_callbacks):
    from assessment.models import AssessmentWindow, Entry, Outcome

    remote, participant, dfe_app = accepted
    window = AssessmentWindow.objects.create(course=participant.course, opens_on=date(2026, 6, 1))
    entry = Entry.objects.create(window=window, participant=participant, access=Entry.Access.ENGAGEMENT)
    Outcome.objects.create(entry=entry, result=Outcome.Result.PASSED, decided_at=timezone.now())
    window.results_released_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        window.save(update_fields=["results_released_at"])  # as assessment.services.results_release saves it
    sent = fake_dfe.fake.declarations[0]["attributes"]
    assert (sent["declaration_type"], sent["has_passed"]) == ("completed", True)
