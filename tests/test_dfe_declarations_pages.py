# ruff: noqa: F811 - the fixtures shared in tests/dfe_support.py are arguments here
"""Declarations backed by evidence (issue 17), sent to the fake DfE over real HTTP with every
request and answer checked against DfE's published schema (tests/dfe_support.py): the
staff pages (a cohort's declarations and chart, declaring and voiding, hostile input) and the
reminders before a milestone and for refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from dfe.declarations import (
    declare,
)
from dfe.models import (
    Declaration,
    Milestone,
    Schedule,
)
from tests.dfe_support import (  # noqa: F401 - the fixtures
    accepted,
    account,
    course,
    fake_dfe,
    first_activity_attended,
)
from tests.factories import CourseFactory

D = Declaration.State


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


# --- reminders --------------------------------------------------------------------------------


def test_reminders_before_a_milestone_and_for_refusals_are_sent_once(
    fake_dfe, accepted, course, django_capture_on_commit_callbacks
):
    from notifications.jobs import JOBS
    from notifications.models import Notification
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
