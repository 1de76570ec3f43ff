"""Copies of a person's data (subject access): who may download one, a copy whose file has gone,
its expiry, what a hub's copy holds, and the person's own page."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from privacy.models import AccessLogEntry, SubjectAccessExport
from privacy.retention import retention_apply
from privacy.services import export_request
from tests.factories import ApplicationFactory, GroupFactory, HubStaffFactory, ParticipantFactory, UserFactory
from tests.privacy_support import read_export


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def copy(media, django_capture_on_commit_callbacks):
    person = ParticipantFactory().user
    hub = person.enrolments.get().course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(person=person, requested_by=admin_of_hub, hub_id=hub.pk)
    export.refresh_from_db()
    return export, admin_of_hub


def download(client, user, export):
    client.force_login(user)
    return client.get(reverse("privacy_export_download", args=[export.pk]))


@pytest.mark.django_db
def test_only_the_person_their_hubs_administrators_and_superusers_download_a_copy(client, copy):
    export, admin_of_hub = copy
    for user in (export.person, admin_of_hub, UserFactory(is_staff=True, is_superuser=True)):
        response = download(client, user, export)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/zip"
        assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("README.txt")
    assert AccessLogEntry.objects.filter(action="downloaded", person=export.person).count() == 3
    for user in (UserFactory(), HubStaffFactory(hub=GroupFactory().course.cohort.hub)):
        assert download(client, user, export).status_code == 404
    client.logout()
    assert client.get(reverse("privacy_export_download", args=[export.pk])).status_code == 302


@pytest.mark.django_db
def test_a_copy_whose_file_has_gone_is_not_found_and_no_download_is_logged(client, copy):
    export, _ = copy
    Path(export.file.path).unlink()  # e.g. storage cleaned by hand
    assert download(client, export.person, export).status_code == 404
    assert not AccessLogEntry.objects.filter(action="downloaded", person=export.person).exists()


@pytest.mark.django_db
def test_a_copy_expires_and_the_schedule_deletes_its_file(client, copy, django_capture_on_commit_callbacks):
    export, _ = copy
    path = Path(export.file.path)
    with time_machine.travel(export.expires_at + timedelta(seconds=1)):
        assert download(client, export.person, export).status_code == 404
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply()
    export.refresh_from_db()
    assert export.status == SubjectAccessExport.Status.EXPIRED and not export.file and not path.exists()


@pytest.mark.django_db
def test_a_person_asks_for_their_copy_and_sees_it_ready(
    client, media, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    person = ParticipantFactory().user
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy_your_data"))
    assert response.status_code == 302
    with django_assert_max_num_queries(8):
        page = client.get(reverse("privacy_your_data")).content.decode()
    export = SubjectAccessExport.objects.get(person=person)
    assert reverse("privacy_export_download", args=[export.pk]) in page
    assert "Download the copy" in page


@pytest.mark.django_db
def test_a_hubs_copy_holds_only_that_hubs_records_the_persons_own_holds_all(
    media, django_capture_on_commit_callbacks
):
    ours = ParticipantFactory()
    person = ours.user
    theirs = ParticipantFactory(user=person)  # the same teacher at another hub
    ApplicationFactory(user=person, course=theirs.course, status="endorsed")
    hub = ours.course.cohort.hub
    with django_capture_on_commit_callbacks(execute=True):
        for_hub = export_request(person=person, requested_by=HubStaffFactory(hub=hub), hub_id=hub.pk)
        for_person = export_request(person=person, requested_by=person)
    for_hub.refresh_from_db()
    for_person.refresh_from_db()

    def enrolments(export) -> set[int]:
        section = json.loads(read_export(export).read("records/programmes.Participant.json"))
        return {row["id"] for row in section["about_you"]}

    assert enrolments(for_hub) == {ours.pk}
    assert enrolments(for_person) == {ours.pk, theirs.pk}
    names = set(read_export(for_hub).namelist())
    assert "records/applications.Application.json" not in names  # the application is the other hub's
    assert "records/accounts.User.json" in names
    assert "records/account.EmailAddress.json" not in names  # the portal's, not the hub's
    assert hub.name in read_export(for_hub).read("README.txt").decode()


@pytest.mark.django_db
def test_pressing_prepare_again_while_a_copy_is_being_made_queues_nothing(client, media):
    person = ParticipantFactory().user
    client.force_login(person)
    client.post(reverse("privacy_your_data"))  # queued: its worker runs after the commit
    client.post(reverse("privacy_your_data"))
    assert SubjectAccessExport.objects.filter(person=person).count() == 1
