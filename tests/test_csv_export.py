"""CSV files staff download: one writer, no cell a spreadsheet would run as a formula, no empty columns."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from applications.models import Application
from applications.services import application_submit
from common.csv_export import FORMULA_STARTS, csv_response, safe_cell
from engagement.models import Attendance, EngagementTally
from funding.models import FundingReview, Institution
from programmes.admin import export_as_csv
from tests.factories import (
    ActivityFactory,
    ApplicationFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    HubFactory,
    LeadProviderFactory,
    ParticipantFactory,
    UserFactory,
    complete_answers,
)

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
EVIL = "=1+2@evil.example"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def assert_no_formulas(rows: list[list[str]]) -> None:
    """No cell starts a formula, except a plain number (which a spreadsheet shows as one)."""
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or NUMBER.fullmatch(cell), cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2@evil.example", "'=1+2@evil.example"),
        ('=HYPERLINK("https://evil.example","Click")', '\'=HYPERLINK("https://evil.example","Click")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("Anne-Marie O'Neil", "Anne-Marie O'Neil"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (Decimal("-1.50"), Decimal("-1.50")),
        (0.5, 0.5),
        (True, "True"),
        (date(2026, 3, 1), "2026-03-01"),
    ],
)
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def test_csv_response_writes_every_cell_safely():
    response = csv_response("people.csv", ["Name", "=Header"], [[EVIL, -3], ["Ada", None]])
    assert response["Content-Disposition"] == 'attachment; filename="people.csv"'
    assert rows_of(response) == [["Name", "'=Header"], ["'" + EVIL, "-3"], ["Ada", ""]]


@pytest.fixture
def hostile_world():
    """Rows for every admin export, with text people typed that starts like a formula."""
    Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        postcode="ME14 2LR",
        status="Open",
    )
    hub = HubFactory(
        name="+Hub", lead_provider=LeadProviderFactory(name="@Provider"), contact_email="hub@x.example"
    )
    cohort = CohortFactory(hub=hub, identifier="-2025-autumn")
    course = CourseFactory(cohort=cohort)
    group = GroupFactory(course=course, name="=Group", venue="@Venue")
    activity = ActivityFactory(group=group, code="=code", title=EVIL)
    alice = UserFactory(email="alice@school.example", full_name=EVIL)
    participant = ParticipantFactory(
        group=group, user=alice, mentor_name="=Mo", mentor_email="mo@school.example"
    )
    Attendance.objects.create(participant=participant, activity=activity, status="attended")
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal("100.00"),
        done_weight=1,
        due_weight=1,
        on_track=True,
        computed_at=datetime(2025, 12, 1, tzinfo=LONDON),
    )
    application = ApplicationFactory(
        user=UserFactory(full_name="=Bob"),
        course=course,
        answers=complete_answers(course, full_name="-Bob Brown", role="=Role"),
    )
    with time_machine.travel(application.started_at, tick=False):
        application_submit(application=application, by=application.user)
    application.refresh_from_db()
    decision = application.funding_decision
    decision.override_reason = "+reason"
    decision.save()
    FundingReview.objects.create(decision=decision, notes="=notes")
    return group, application


def exports() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if export_as_csv in getattr(model_admin, "actions", ()) and getattr(model_admin, "csv_columns", ())
    ]


def test_every_column_of_every_export_names_something():
    """A column is an admin method (as in list_display) or a path of the model's fields and
    attributes; a name that is neither used to give an empty column silently."""
    assert exports()
    for model, model_admin in exports():
        for header, path in model_admin.csv_columns:
            if callable(getattr(model_admin, path, None)):
                continue
            current = model
            parts = path.split(".")
            for i, part in enumerate(parts):
                assert hasattr(current, part), f"{model.__name__} CSV column {header!r}: no {part!r}"
                if i < len(parts) - 1:
                    current = current._meta.get_field(part).related_model


def test_every_admin_export_neutralises_formulas(client, hostile_world):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model, model_admin in exports():
        opts = model._meta
        pks = list(model.objects.values_list("pk", flat=True))
        assert pks, f"the test has no {opts.verbose_name} to export: add one to hostile_world"
        response = client.post(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            {"action": "export_as_csv", "_selected_action": pks},
        )
        rows = rows_of(response)
        assert rows[0] == [header for header, _ in model_admin.csv_columns]
        assert len(rows) == len(pks) + 1
        assert_no_formulas(rows)


def test_typed_text_is_kept_as_text(client, hostile_world):
    group, application = hostile_world
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:programmes_participant_changelist"),
        {"action": "export_as_csv", "_selected_action": [group.participants.get().pk]},
    )
    header, row = rows_of(response)
    assert dict(zip(header, row, strict=True))["Name"] == "'" + EVIL
    assert dict(zip(header, row, strict=True))["Mentor"] == "'=Mo"


def test_the_applications_export_has_the_reference(client, hostile_world):
    _, application = hostile_world
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "export_as_csv", "_selected_action": [application.pk]},
    )
    header, row = rows_of(response)
    exported = dict(zip(header, row, strict=True))
    assert exported["Reference"] == f"NPQ-{application.pk:06d}"
    assert exported["Name"] == "'-Bob Brown"
    assert exported["Status"] == Application.Status.AWAITING_ENDORSEMENT


def test_the_engagement_grid_csv_neutralises_formulas(client, hostile_world):
    group, _ = hostile_world
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:programmes_group_grid", args=[group.pk]), {"format": "csv"})
    header, *rows = rows_of(response)
    assert_no_formulas([header, *rows])
    assert header[4].startswith("'") and "=code" in header[4]  # the activity, as text
    alice = next(row for row in rows if row[0] == "alice@school.example")
    assert alice[1] == "'" + EVIL and alice[3] == "100.00"
