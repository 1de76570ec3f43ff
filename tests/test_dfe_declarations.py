"""Declarations backed by evidence (issue 17), sent to the fake DfE over real HTTP with every
request and answer checked against DfE's published schema (tests/dfe_support.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dfe.client import DfeUncertain
from dfe.declarations import (
    DeclarationError,
    content_hash,
    declare,
    evidence_intact,
    send_declaration,
    send_open_declarations,
    void,
)
from dfe.models import (
    Declaration,
    DeliveryPartner,
    DfeApplication,
    EarningRule,
    Evidence,
    Milestone,
    Schedule,
)
from dfe.services import token_set
from engagement.models import Attendance, EngagementTally
from tests.conftest import need
from tests.factories import ActivityFactory, CourseFactory, GroupFactory, LeadProviderFactory
from tests.test_dfe_link import accepted_through_dfe, dfe_application, endorsed

D = Declaration.State


@pytest.fixture
def fake_dfe(settings):
    from tests import dfe_support

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


def test_the_2024_and_2025_milestones_are_seeded_as_data(db):
    leadership = Schedule.objects.get(dfe_cohort="2025", identifier="npq-leadership-spring")
    dates = {m.declaration_type: m.milestone_date for m in leadership.milestones.all()}
    assert dates == {
        "started": date(2025, 5, 30),
        "retained-1": date(2025, 12, 19),
        "retained-2": date(2026, 7, 24),
        "completed": date(2027, 2, 25),
    }
    specialist = Schedule.objects.get(dfe_cohort="2024", identifier="npq-specialist-autumn")
    assert {m.declaration_type for m in specialist.milestones.all()} == {"started", "retained-1", "completed"}
    assert specialist.milestones.get(declaration_type="completed").milestone_date == date(2026, 2, 21)


def test_started_is_sent_with_its_frozen_evidence_and_delivery_partner(
    fake_dfe, accepted, django_capture_on_commit_callbacks
):
    remote, participant, dfe_app = accepted
    activity = first_activity_attended(participant)
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare(participant, "started", by=None)
    declaration.refresh_from_db()
    assert declaration.state == D.ELIGIBLE and declaration.dfe_id is not None
    sent = next(d for d in fake_dfe.fake.declarations if d["id"] == str(declaration.dfe_id))["attributes"]
    assert sent["delivery_partner_id"] == str(declaration.delivery_partner_id)
    assert sent["declaration_date"].endswith("Z") and sent["declaration_type"] == "started"

    evidence = declaration.evidence
    assert evidence.met and evidence_intact(evidence)
    assert evidence.content["marks"][0]["activity"] == activity.code
    # Marks changed afterwards do not alter it; the record itself cannot be changed.
    Attendance.objects.filter(participant=participant).update(status=Attendance.Status.ABSENT)
    evidence.refresh_from_db()
    assert evidence.content["marks"][0]["status"] == "attended"
    with pytest.raises(ValueError, match="never changed"):
        evidence.save()
    if connection.vendor == "postgresql":  # the database refuses it too
        with pytest.raises(Exception, match="never changed"), transaction.atomic():
            Evidence.objects.filter(pk=evidence.pk).update(content={"met": True})
        with (
            pytest.raises(Exception, match="never deleted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM dfe_evidence WHERE id = %s", [evidence.pk])
    tampered = dict(evidence.content, met=False)
    assert content_hash(tampered) != evidence.content_hash
    assert fake_dfe.checker.checked > 0


def test_without_evidence_a_declaration_is_refused_unless_overridden_with_a_reason(
    fake_dfe, accepted, django_capture_on_commit_callbacks
):
    remote, participant, dfe_app = accepted
    with pytest.raises(DeclarationError, match="does not meet the rule"):
        declare(participant, "started", by=None)
    assert not Declaration.objects.exists()
    assert not [p for m, p in fake_dfe.fake.requests if m == "POST" and "declarations" in p]

    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare(
            participant,
            "started",
            by=None,
            override_reason="Register lost in a fire; attendance confirmed by the facilitator.",
        )
    declaration.refresh_from_db()
    assert declaration.state == D.ELIGIBLE
    assert declaration.override_reason.startswith("Register lost")
    assert declaration.evidence.met is False  # what there was is still frozen with it
    # The database refuses a declaration with neither evidence nor a reason.
    with pytest.raises(IntegrityError), transaction.atomic():
        Declaration.objects.create(
            dfe_application=dfe_app,
            declaration_type="retained-1",
            declaration_date=timezone.now(),
            delivery_partner_id=uuid.uuid4(),
            created_at=timezone.now(),
        )


def test_one_billable_declaration_per_type_and_dates_checked(fake_dfe, accepted):
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    with pytest.raises(DeclarationError, match="future"):
        declare(participant, "started", by=None, declaration_date=timezone.now() + timedelta(days=1))
    with pytest.raises(DeclarationError, match="before the schedule starts"):
        declare(
            participant,
            "started",
            by=None,
            declaration_date=datetime(2025, 8, 1, tzinfo=timezone.get_current_timezone()),
        )
    with pytest.raises(DeclarationError, match="has no retained-2"):
        declare(participant, "retained-2", by=None)
    declare(participant, "started", by=None)
    with pytest.raises(DeclarationError, match="already been made"):
        declare(participant, "started", by=None)
    existing = Declaration.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Declaration.objects.create(
            dfe_application=dfe_app,
            declaration_type="started",
            declaration_date=timezone.now(),
            delivery_partner_id=existing.delivery_partner_id,
            evidence=existing.evidence,
            created_at=timezone.now(),
        )


def test_no_delivery_partner_id_no_declaration(fake_dfe, accepted):
    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    DeliveryPartner.objects.all().delete()
    with pytest.raises(DeclarationError, match="delivery partner id"):
        declare(participant, "started", by=None)


def test_retained_follows_the_lead_providers_threshold(fake_dfe, accepted):
    remote, participant, dfe_app = accepted
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal("85"),
        done_weight=17,
        due_weight=20,
        computed_at=timezone.now(),
    )
    with pytest.raises(DeclarationError, match="does not meet the rule"):
        declare(participant, "retained-1", by=None)  # the default: 90%
    EarningRule.objects.create(
        lead_provider=dfe_app.lead_provider, declaration_type="retained-1", engagement_threshold=Decimal("80")
    )
    declaration = declare(participant, "retained-1", by=None)
    assert declaration.evidence.met
    assert declaration.evidence.content["tally"]["percent"] == "85.00"
    assert "80" in declaration.evidence.content["rule"]


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


# --- the staff pages --------------------------------------------------------------------------


def test_cohort_page_declares_the_ready_in_bulk_and_other_hubs_see_nothing(
    client, fake_dfe, accepted, course, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from django.urls import reverse

    from tests.factories import HubStaffFactory

    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    url = reverse("admin:dfe_declaration_cohort", args=[course.cohort.pk])
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    with django_assert_max_num_queries(30):
        page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Ready to declare" in text and "Not earned yet" in text
    assert f'value="{participant.pk}:started"' in text
    assert f'value="{participant.pk}:retained-1"' not in text  # not earned: nothing to tick

    # A row not ready (retained-1) is ignored even when posted by hand; the ready one is sent.
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            url,
            {"declare": [f"{participant.pk}:started", f"{participant.pk}:retained-1", "x:y"]},
            follow=True,
        )
    assert "1 declaration(s) recorded" in page.content.decode()
    declaration = Declaration.objects.get()
    assert declaration.declaration_type == "started" and declaration.state == D.ELIGIBLE
    assert "Declared: eligible for payment" in client.get(url).content.decode()

    evidence_page = client.get(reverse("admin:dfe_declaration_participant", args=[participant.pk]))
    assert "unchanged since it was recorded" in evidence_page.content.decode()
    assert declaration.evidence.content_hash in evidence_page.content.decode()
    assert client.get(reverse("admin:dfe_evidence_change", args=[declaration.evidence_id])).status_code == 200

    csv = client.get(reverse("admin:dfe_declaration_assurance", args=[course.cohort.pk])).content.decode()
    header, row = csv.splitlines()[:2]
    assert header.startswith("Participant ID,Participant Name,TRN,Course Identifier,Schedule")
    assert str(declaration.dfe_id) in row and declaration.evidence.content_hash in row

    client.force_login(HubStaffFactory(hub=CourseFactory().cohort.hub))  # another hub's staff
    assert client.get(url).status_code == 404
    assert client.get(reverse("admin:dfe_declaration_participant", args=[participant.pk])).status_code == 404
    assert client.get(reverse("admin:dfe_declaration_assurance", args=[course.cohort.pk])).status_code == 404
    assert client.post(
        reverse("admin:dfe_declaration_void", args=[declaration.pk]), {"reason": "x"}
    ).status_code in (
        403,
        404,
    )
    declaration.refresh_from_db()
    assert declaration.state == D.ELIGIBLE


def test_declaring_without_evidence_on_the_page_needs_a_reason_and_voiding_needs_one(
    client, fake_dfe, accepted, course, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.factories import HubStaffFactory

    remote, participant, dfe_app = accepted
    staff = HubStaffFactory(hub=course.cohort.hub)
    client.force_login(staff)
    url = reverse("admin:dfe_declaration_participant", args=[participant.pk])
    page = client.post(url, {"declaration_type": "started", "override_reason": ""})
    assert "does not meet the rule" in page.content.decode()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = client.post(
        url, {"declaration_type": "started", "declaration_date": tomorrow, "override_reason": "r"}
    )
    assert "cannot be in the future" in page.content.decode()
    page = client.post(
        url, {"declaration_type": "started", "declaration_date": "2025-08-31", "override_reason": "r"}
    )
    assert "before the schedule starts" in page.content.decode()
    page = client.post(
        url, {"declaration_type": "started", "declaration_date": "31 February", "override_reason": "r"}
    )
    assert "Enter a valid date" in page.content.decode()
    assert not Declaration.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url, {"declaration_type": "started", "override_reason": "Register lost; confirmed by email."}
        )
    declaration = Declaration.objects.get()
    assert (
        declaration.created_by == staff
        and declaration.override_reason == "Register lost; confirmed by email."
    )

    void_url = reverse("admin:dfe_declaration_void", args=[declaration.pk])
    page = client.post(void_url, {"reason": ""})
    assert page.status_code == 200 and "This field is required" in page.content.decode()
    client.post(void_url, {"reason": "Declared in error."})
    declaration.refresh_from_db()
    assert declaration.state == D.VOIDED and declaration.void_reason == "Declared in error."


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


def test_reminders_before_a_milestone_and_for_refusals_are_sent_once(
    fake_dfe, accepted, course, django_capture_on_commit_callbacks
):
    from notifications.models import Notification
    from notifications.reminders import JOBS
    from tests.factories import HubStaffFactory

    remote, participant, dfe_app = accepted
    admin_user = HubStaffFactory(hub=course.cohort.hub)
    first_activity_attended(participant)
    remind = JOBS["declaration_reminders"]
    started = Milestone.objects.get(
        schedule__dfe_cohort=dfe_app.cohort,
        schedule__identifier=dfe_app.schedule_identifier,
        declaration_type="started",
    )
    for expected in (1, 0):  # a rerun records nothing more
        assert remind(started.milestone_date - timedelta(days=14)) == expected
        assert remind(started.milestone_date - timedelta(days=3)) == expected
    assert remind(started.milestone_date - timedelta(days=5)) == 0
    due = Notification.objects.filter(kind="declarations_due")
    assert due.count() == 2 and {n.recipient for n in due} == {admin_user.email}
    assert "ready to send before" in due.first().title

    # DfE refusing a declaration tells whoever made it, once.
    declaration = declare(participant, "started", by=admin_user)
    Declaration.objects.filter(pk=declaration.pk).update(state=D.REFUSED, error="DfE said no.")
    assert remind(started.milestone_date - timedelta(days=5)) == 1
    assert remind(started.milestone_date - timedelta(days=5)) == 0
    refused = Notification.objects.get(kind="declaration_refused")
    assert refused.recipient == admin_user.email and "DfE said no." in refused.body_text


def test_a_cohort_runs_from_acceptance_to_completed_and_the_assurance_pack_traces_each_declaration(
    client, fake_dfe, accepted, course, django_capture_on_commit_callbacks
):
    """Issue 17's demo as a test, with the fake DfE over HTTP."""
    import csv
    import io

    from django.urls import reverse

    from assessment.models import AssessmentWindow, Entry, Outcome
    from tests.factories import HubStaffFactory

    remote, participant, dfe_app = accepted
    staff = HubStaffFactory(hub=course.cohort.hub)
    first_activity_attended(participant)
    with django_capture_on_commit_callbacks(execute=True):
        declare(participant, "started", by=staff)
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal("95"),
        done_weight=19,
        due_weight=20,
        computed_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        declare(participant, "retained-1", by=staff)
    window = AssessmentWindow.objects.create(course=participant.course, opens_on=date(2026, 6, 1))
    entry = Entry.objects.create(window=window, participant=participant, access=Entry.Access.ENGAGEMENT)
    Outcome.objects.create(entry=entry, result=Outcome.Result.PASSED, decided_at=timezone.now())
    window.results_released_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        window.save(update_fields=["results_released_at"])

    at_dfe = {d["attributes"]["declaration_type"]: d for d in fake_dfe.fake.declarations}
    assert set(at_dfe) == {"started", "retained-1", "completed"}
    assert at_dfe["completed"]["attributes"]["has_passed"] is True
    assert all(d["attributes"]["state"] == "eligible" for d in at_dfe.values())

    client.force_login(staff)
    pack = client.get(reverse("admin:dfe_declaration_assurance", args=[course.cohort.pk]))
    rows = list(csv.DictReader(io.StringIO(pack.content.decode())))
    assert {r["Declaration Type"] for r in rows} == {"started", "retained-1", "completed"}
    for row in rows:
        declaration = Declaration.objects.get(dfe_id=row["Declaration ID"])
        assert at_dfe[row["Declaration Type"]]["id"] == row["Declaration ID"]
        assert row["Evidence Hash"] == declaration.evidence.content_hash and evidence_intact(
            declaration.evidence
        )
        assert row["Evidence Met The Rule"] == "Yes" and row["TRN"] == dfe_app.trn
        assert row["Participant ID"] == str(dfe_app.participant_id)
    page = client.get(reverse("admin:dfe_declaration_participant", args=[participant.pk])).content.decode()
    assert page.count("unchanged since it was recorded") == 3


def test_the_chart_counts_each_type_against_its_milestone_with_the_money(client, fake_dfe, accepted, course):
    from django.urls import reverse

    from dfe.declarations import cohort_chart, cohort_standing
    from dfe.models import OutputPrice
    from tests.factories import HubStaffFactory

    remote, participant, dfe_app = accepted
    first_activity_attended(participant)
    OutputPrice.objects.create(
        dfe_cohort=dfe_app.cohort,
        course_identifier=dfe_app.course_identifier,
        declaration_type="started",
        per_participant_price=Decimal("1000"),
        output_share=Decimal("15"),
    )
    rows = cohort_standing(course_ids=[course.pk], lead_provider_id=course.cohort.hub.lead_provider_id)
    chart = {c.declaration_type: c for c in cohort_chart(rows)}
    assert chart["started"].counts["ready"] == 1 and chart["started"].at_stake_money == Decimal("150.00")
    assert chart["retained-1"].at_stake_money is None  # no price set
    declare(participant, "started", by=None)
    Declaration.objects.update(state=D.PAID)
    rows = cohort_standing(course_ids=[course.pk], lead_provider_id=course.cohort.hub.lead_provider_id)
    started = next(c for c in cohort_chart(rows) if c.declaration_type == "started")
    assert started.counts["declared"] == 1 and started.declared_money == Decimal("150.00")
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    page = client.get(reverse("admin:dfe_declaration_cohort", args=[course.cohort.pk])).content.decode()
    assert "£150.00" in page and "Declared: 1." in page

    Schedule.objects.filter(identifier=dfe_app.schedule_identifier, dfe_cohort=dfe_app.cohort).update(
        identifier="npq-leadership-autumn"
    )
    page = client.get(reverse("admin:dfe_declaration_cohort", args=[course.cohort.pk])).content.decode()
    assert "1 participant accepted at DfE has a schedule the portal does not hold yet" in page
    assert f"{dfe_app.schedule_identifier} in DfE cohort {dfe_app.cohort}" in page


def test_hostile_input_on_the_declaration_pages_gets_words_not_errors(client, fake_dfe, accepted, course):
    from django.urls import reverse

    from tests.factories import HubStaffFactory

    remote, participant, dfe_app = accepted
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:dfe_declaration_participant", args=[participant.pk])
    for data in (
        {"declaration_type": "<script>alert(1)</script>"},
        {"declaration_type": "started", "override_reason": "x" * 5000},
        {"declaration_type": ["started", "completed"]},
        {},
    ):
        page = client.post(url, data)
        assert page.status_code == 200 and "<script>alert(1)</script>" not in page.content.decode()
    cohort_url = reverse("admin:dfe_declaration_cohort", args=[course.cohort.pk])
    page = client.post(
        cohort_url, {"declare": ["1:started\x00", "'; drop table dfe_declaration;--", "9" * 40]}
    )
    assert page.status_code == 302
    assert not Declaration.objects.exists()
    assert client.get("/admin/dfe/declaration/cohorts/99999999/").status_code == 404
    assert client.get("/admin/dfe/declaration/participants/99999999/").status_code == 404
