"""GIAS and eligibility list imports: idempotent, bad rows reported by line, wrong files refused."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from funding.imports import MalformedFile, import_eligibility_list, import_gias
from funding.models import EligibilityListEntry, FundingRound, ImportRun, Institution
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_gias_sample_loads_every_field_from_a_latin1_file():
    outcome = import_gias(raw("gias_sample.csv"))
    assert (outcome.rows_total, outcome.created, outcome.problems) == (9, 9, [])
    ecole = Institution.objects.get(urn=131214)
    assert ecole.name == "École Jeannine Manuel"  # decoded from Windows-1252
    academy = Institution.objects.get(urn=137001)
    assert (academy.ukprn, academy.establishment_type_code, academy.establishment_type_name) == (
        10034111,
        28,
        "Academy sponsor led",
    )
    assert (academy.la_code, academy.la_name, academy.number_of_pupils, academy.postcode) == (
        "886",
        "Kent",
        1104,
        "ME14 2LR",
    )
    assert str(academy.open_date) == "2011-09-01" and academy.close_date is None
    closed = Institution.objects.get(urn=112233)
    assert closed.status == "Closed" and str(closed.close_date) == "2019-08-31"


def test_the_same_file_in_utf8_reads_the_same():
    utf8 = raw("gias_sample.csv").decode("cp1252").encode("utf-8-sig")
    import_gias(utf8)
    assert Institution.objects.get(urn=131214).name == "École Jeannine Manuel"


def test_reimporting_the_same_file_changes_nothing():
    import_gias(raw("gias_sample.csv"))
    before = list(Institution.objects.order_by("urn").values())
    outcome = import_gias(raw("gias_sample.csv"))
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 9)
    assert list(Institution.objects.order_by("urn").values()) == before


def test_a_changed_row_is_updated_in_place():
    import_gias(raw("gias_sample.csv"))
    changed = (
        raw("gias_sample.csv")
        .replace(b'"Hillview Primary School"', b"Hillview Primary Academy")
        .replace(b"Hillview Primary School", b"Hillview Primary Academy")
    )
    outcome = import_gias(changed)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 8)
    assert Institution.objects.get(urn=118234).name == "Hillview Primary Academy"


def test_bad_rows_are_reported_by_line_and_good_rows_load():
    outcome = import_gias(raw("gias_bad_rows.csv"))
    assert outcome.problems == [
        (4, "URN 'ABC' is not a whole number"),
        (5, "OpenDate '31/02/2020x' is not a date like 01-09-2015"),
        (6, "EstablishmentName is empty"),
        (7, "NumberOfPupils 'lots' is not a whole number"),
    ]
    assert set(Institution.objects.values_list("urn", flat=True)) == {137001, 118234, 100000}


def test_a_file_with_the_wrong_columns_loads_nothing_and_says_why():
    with pytest.raises(MalformedFile, match=r'missing the columns .*"EstablishmentName"'):
        import_gias(raw("gias_wrong_columns.csv"))
    assert not Institution.objects.exists()


def test_import_gias_command(capsys):
    call_command("import_gias", str(DATA / "gias_bad_rows.csv"))
    captured = capsys.readouterr()
    assert "3 added" in captured.out and "4 rows skipped" in captured.out
    assert "line 4: URN 'ABC' is not a whole number" in captured.err
    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("import_gias", str(DATA / "gias_wrong_columns.csv"))
    with pytest.raises(CommandError, match="is not a file"):
        call_command("import_gias", str(DATA / "missing.csv"))


def test_eligibility_list_is_replaced_by_the_file_and_reimport_changes_nothing():
    round_2025 = FundingRound.objects.get(code="2025")
    first = import_eligibility_list(raw("pp50_school_2025.csv"), funding_round=round_2025, kind="pp50_school")
    assert (first.created, first.removed) == (2, 0)
    again = import_eligibility_list(raw("pp50_school_2025.csv"), funding_round=round_2025, kind="pp50_school")
    assert (again.created, again.unchanged, again.removed) == (0, 2, 0)
    smaller = b"URN\r\n137001\r\nnot-a-urn\r\n"
    outcome = import_eligibility_list(smaller, funding_round=round_2025, kind="pp50_school")
    assert outcome.problems == [(3, "'NOT-A-URN' is not a URN, UKPRN or Ofsted URN (like EY123456)")]
    assert outcome.removed == 1
    assert list(EligibilityListEntry.objects.values_list("identifier", flat=True)) == ["137001"]
    with pytest.raises(MalformedFile, match="column named URN"):
        import_eligibility_list(b"School,Town\r\nA,B\r\n", funding_round=round_2025, kind="pp50_school")
    assert EligibilityListEntry.objects.count() == 1


def test_admin_upload_queues_a_task_and_shows_progress(client, django_capture_on_commit_callbacks):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = SimpleUploadedFile("pp50.csv", raw("pp50_school_2025.csv"), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:funding_importrun_add"),
            {
                "kind": "eligibility_list",
                "file": upload,
                "funding_round": FundingRound.objects.get(code="2025").pk,
                "list_kind": "pp50_school",
            },
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is queued only after the upload is committed
    run = ImportRun.objects.get()
    assert run.status == "done" and (run.rows_total, run.rows_done, run.created) == (2, 2, 2)
    page = client.get(reverse("admin:funding_importrun_change", args=[run.pk])).content.decode()
    assert "2 of 2 rows (100%)" in page


def test_admin_upload_of_a_list_needs_round_and_kind(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = SimpleUploadedFile("pp50.csv", raw("pp50_school_2025.csv"), content_type="text/csv")
    response = client.post(
        reverse("admin:funding_importrun_add"), {"kind": "eligibility_list", "file": upload}
    )
    assert response.status_code == 200
    assert "Choose the funding round this list is for." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_running_an_import_twice_does_the_work_once():
    from funding.imports import import_run_execute

    run = ImportRun.objects.create(kind="gias", file=SimpleUploadedFile("gias.csv", raw("gias_sample.csv")))
    import_run_execute(run)
    Institution.objects.filter(urn=137001).update(name="Changed by hand")
    again = import_run_execute(run)
    assert again.status == "done"
    assert Institution.objects.get(urn=137001).name == "Changed by hand"


def test_hub_staff_cannot_upload_imports(client):
    from tests.factories import HubFactory, HubStaffFactory

    client.force_login(HubStaffFactory(hub=HubFactory()))
    assert client.get(reverse("admin:funding_importrun_add")).status_code == 403


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_runs_on_a_real_worker(celery_worker_process, settings, tmp_path):
    from funding.tasks import run_import

    run = ImportRun.objects.create(kind="gias", file=SimpleUploadedFile("gias.csv", raw("gias_sample.csv")))
    result = run_import.apply_async(args=[run.pk], queue=celery_worker_process["queue"])
    assert result.get(timeout=60) == "done"
    assert Institution.objects.count() == 9
