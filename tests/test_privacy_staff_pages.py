"""The privacy staff pages (copies asked for by a hub's staff, erasure, the access log, the
retention rules and their report) and the privacy notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment.models import AssessmentWindow
from privacy.models import AccessLogEntry, ErasureRecord, RetentionRule, SubjectAccessExport
from privacy.services import export_request
from programmes.models import Participant
from tests.factories import GroupFactory, HubStaffFactory, ParticipantFactory, UserFactory
from tests.privacy_support import two_factor_client as staff_client


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_hub_staff_ask_for_a_copy_only_of_their_hubs_people(
    client, media, django_capture_on_commit_callbacks
):
    ours = ParticipantFactory()
    theirs = ParticipantFactory()
    admin_of_hub = HubStaffFactory(hub=ours.course.cohort.hub)
    staff_client(client, admin_of_hub)
    url = reverse("admin:privacy_subjectaccessexport_add")
    refused = client.post(url, {"email": theirs.user.email})
    assert refused.status_code == 200
    assert (
        "No one with this email address has applied to or is enrolled with your hub."
        in refused.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": ours.user.email.upper()})
    export = SubjectAccessExport.objects.get()
    assert response.status_code == 302 and export.person == ours.user and export.hub == ours.course.cohort.hub
    page = client.get(reverse("admin:privacy_subjectaccessexport_change", args=[export.pk])).content.decode()
    assert "Ready to download" in page and reverse("privacy_export_download", args=[export.pk]) in page


@pytest.mark.django_db
def test_erasure_is_for_superusers_after_a_confirmation_of_what_goes_and_what_stays(client, media):
    participant = ParticipantFactory(trn="1112223")
    person = participant.user
    assert (
        staff_client(client, HubStaffFactory(hub=participant.course.cohort.hub))
        .get(reverse("admin:privacy_erasurerecord_erase"))
        .status_code
        == 403
    )
    staff_client(client, UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:privacy_erasurerecord_erase")
    page = client.post(url, {"email": person.email}).content.decode()
    assert "Erase this person?" in page and "Enrolments" in page and "teacher reference number" in page
    assert "for the hub" in page  # what is kept, and why
    assert Participant.objects.get(pk=participant.pk).trn == "1112223"  # nothing happened yet
    response = client.post(url, {"email": person.email, "confirm": "yes"})
    assert response.status_code == 302
    assert Participant.objects.get(pk=participant.pk).trn == ""
    assert ErasureRecord.objects.get().account_id == person.pk
    assert AccessLogEntry.objects.get(action="erased").person == person
    again = client.post(url, {"email": f"erased-user-{person.pk}@erased.invalid"}).content.decode()
    assert "already been erased" in again


@pytest.mark.django_db
def test_viewing_and_exporting_participants_is_logged_and_shown_to_their_hub_only(client, media):
    participant = ParticipantFactory()
    hub = participant.course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    staff_client(client, admin_of_hub)
    assert (
        client.get(reverse("admin:programmes_participant_change", args=[participant.pk])).status_code == 200
    )
    client.post(
        reverse("admin:programmes_participant_changelist"),
        {"action": "export_as_csv", "_selected_action": [participant.pk]},
    )
    window = AssessmentWindow.objects.create(
        course=participant.course, opens_on=participant.course.delivery_end
    )
    assert client.get(reverse("admin:assessment_window_manage", args=[window.pk])).status_code == 200
    course_wide = AccessLogEntry.objects.get(what__startswith="Assessment entries")
    assert (course_wide.person, course_wide.hub) == (None, hub)
    viewed = AccessLogEntry.objects.get(action="viewed", person__isnull=False)
    assert (viewed.by, viewed.person, viewed.hub) == (admin_of_hub, participant.user, hub)
    exported = AccessLogEntry.objects.get(action="exported")
    assert exported.rows == 1 and exported.hub == hub and exported.what == "CSV export: participants"
    listing = client.get(reverse("admin:privacy_accesslogentry_changelist")).content.decode()
    assert "Participant page" in listing
    other_admin = HubStaffFactory(hub=GroupFactory().course.cohort.hub)
    staff_client(client, other_admin)
    listing = client.get(reverse("admin:privacy_accesslogentry_changelist")).content.decode()
    assert "Participant page" not in listing


# --- Privacy notice ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_privacy_notice_is_linked_and_shows_the_schedule_a_hub_may_override(client):
    home = client.get("/").content.decode()
    assert reverse("privacy_notice") in home
    assert reverse("privacy_notice") in client.get(reverse("account_signup")).content.decode()
    page = client.get(reverse("privacy_notice")).content.decode()
    assert "public task" in page and "Assessment responses and their files" in page and "12 months" in page
    hub = GroupFactory().course.cohort.hub
    RetentionRule.objects.create(kind="assessment_scripts", hub=hub, period=3, unit="years")
    page = client.get(reverse("privacy_notice"), {"hub": hub.pk}).content.decode()
    assert "3 years after the results were released" in page and hub.name in page
    assert client.get(reverse("privacy_notice"), {"hub": "x'; drop"}).status_code == 200


@pytest.mark.django_db
def test_the_privacy_admin_pages_open_for_those_allowed_at_a_constant_cost(
    client, media, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory()
    hub = participant.course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    for _ in range(3):
        AccessLogEntry.objects.create(
            at=timezone.now(), by=admin_of_hub, action="viewed", what="x", hub=hub, person=participant.user
        )
        with django_capture_on_commit_callbacks(execute=True):
            export_request(person=participant.user, requested_by=admin_of_hub, hub_id=hub.pk)
    pages = {
        "admin:privacy_accesslogentry_changelist": True,
        "admin:privacy_subjectaccessexport_changelist": True,
        "admin:privacy_subjectaccessexport_add": True,
        "admin:privacy_retentionrule_changelist": True,
        "admin:privacy_retentionrule_add": True,
        "admin:privacy_retentionrule_report": False,
        "admin:privacy_erasurerecord_changelist": False,
        "admin:privacy_erasurerecord_erase": False,
    }
    superuser = UserFactory(is_staff=True, is_superuser=True)
    for user in (superuser, admin_of_hub):
        staff_client(client, user)
        for name, hub_admin_may in pages.items():
            # The report counts two moments for each of the 13 kinds of record.
            with django_assert_max_num_queries(50 if name.endswith("report") else 25):
                response = client.get(reverse(name))
            expected = 200 if user.is_superuser or hub_admin_may else 403
            assert response.status_code == expected, (user, name)
    staff_client(client, superuser)
    report = client.get(reverse("admin:privacy_retentionrule_report")).content.decode()
    assert "Assessment responses and their files" in report and "12 months" in report
    # A hub's administrators set rules for their own hub only, and only for a hub's records.
    staff_client(client, admin_of_hub)
    refused = client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "job_runs", "hub": hub.pk, "period": 1, "unit": "days"},
    )
    assert "not a hub" in refused.content.decode()
    other_hub = GroupFactory().course.cohort.hub
    client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "attendance", "hub": other_hub.pk, "period": 1, "unit": "years", "enabled": "on"},
    )
    assert not RetentionRule.objects.filter(hub=other_hub).exists()
    client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "attendance", "hub": hub.pk, "period": 3, "unit": "years", "enabled": "on"},
    )
    assert RetentionRule.objects.get(hub=hub).period == 3
