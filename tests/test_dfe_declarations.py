# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""Declarations backed by evidence (issue 17), sent to the fake DfE over real HTTP with every
request and answer checked against DfE's published schema (tests/dfe_support.py): when a
declaration is earned and made, with its frozen evidence, and a cohort from acceptance to the
assurance pack. Sending, voiding and outcomes: test_dfe_declarations_sending.py; the staff pages
and reminders: test_dfe_declarations_pages.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dfe.declarations import (
    DeclarationError,
    content_hash,
    declare,
    evidence_intact,
)
from dfe.models import (
    Declaration,
    DeliveryPartner,
    EarningRule,
    Evidence,
    Schedule,
)
from engagement.models import Attendance, EngagementTally
from tests.dfe_support import (  # noqa: F401 - the fixtures
    accepted,
    account,
    course,
    fake_dfe,
    first_activity_attended,
)

D = Declaration.State


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
