# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""The link to DfE's lead provider API v3, over real HTTP against the fake DfE, with every request
and answer checked against DfE's published schema (tests/dfe_support.py): a participant's
withdrawal, deferral, resumption and schedule change reaching DfE, DfE's reasons and identifiers,
and the whole journey from DfE to acceptance and withdrawal."""

from __future__ import annotations

from applications.models import Application
from applications.services import application_accept
from dfe.models import DfeApplication, DfeWrite
from dfe.sync import sync_applications
from dfe.writes import send_write
from notifications.models import Notification
from programmes.services import participant_defer, participant_resume, participant_withdraw
from tests.dfe_support import (  # noqa: F401 - the fixtures
    accepted_through_dfe,
    account,
    course,
    dfe_application,
    endorsed,
    fake_dfe,
)
from tests.factories import ApplicationFactory, CourseFactory, UserFactory

W = DfeWrite.State


# --- participant changes -------------------------------------------------------------------


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


# --- DfE's words and identifiers -----------------------------------------------------------


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


# --- the whole journey ---------------------------------------------------------------------


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
