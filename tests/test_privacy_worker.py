"""A real Celery worker makes a copy of a person's data: the request is recorded, the worker
(another process, on Redis) builds the ZIP into the shared media folder and marks it ready."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def shared_media(monkeypatch, settings, tmp_path):
    """The worker process reads MEDIA_ROOT from its environment: the same folder as the test."""
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_makes_the_copy_of_a_persons_data(shared_media, celery_worker_process):
    from django.utils import timezone

    from privacy.models import SubjectAccessExport
    from privacy.tasks import build_subject_access_export
    from tests.factories import ParticipantFactory

    participant = ParticipantFactory(trn="7654321")
    person = participant.user
    export = SubjectAccessExport.objects.create(person=person, requested_by=person, created_at=timezone.now())
    result = build_subject_access_export.apply_async(args=[export.pk], queue=celery_worker_process["queue"])
    assert result.get(timeout=90) == "done"
    export.refresh_from_db()
    assert export.status == "done" and export.parts_done == export.parts_total
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    enrolments = json.loads(archive.read("records/programmes.Participant.json"))["about_you"]
    assert [(row["id"], row["trn"]) for row in enrolments] == [(participant.pk, "7654321")]
    # Delivered twice (acks_late after a lost worker): the finished copy is left as it is.
    again = build_subject_access_export.apply_async(args=[export.pk], queue=celery_worker_process["queue"])
    assert again.get(timeout=90) == "done"
    name = export.file.name
    export.refresh_from_db()
    assert export.file.name == name
