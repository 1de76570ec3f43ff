"""Imports never half-load, never empty a list by accident and never stay "running" forever.

Each test pins one fault found in the imports: short rows, workbooks, a worker killed mid-way,
a cut or header-only list, spreadsheet numbers, encodings, and runs left running.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from common.csv_files import MalformedFile, decode
from funding import imports
from funding.imports import (
    import_eligibility_list,
    import_gias,
    import_run_execute,
    import_runs_fail_stale,
)
from funding.models import EligibilityListEntry, FundingRound, ImportRun, Institution
from tests.conftest import need
from tests.factories import HubFactory, HubStaffFactory, UserFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
GIAS = (DATA / "gias_sample.csv").read_bytes()
START = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def round_2025():
    return FundingRound.objects.get(code="2025")


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def urns(first: int, count: int) -> list[str]:
    return [str(first + i) for i in range(count)]


def list_file(identifiers: list[str], header: str = "URN,School name") -> bytes:
    rows = [header, *(f"{i},School {i}" for i in identifiers)]
    return ("\r\n".join(rows) + "\r\n").encode()


def stored(round_2025, kind: str = "pp50_school") -> list[str]:
    return list(
        EligibilityListEntry.objects.filter(funding_round=round_2025, kind=kind)
        .order_by("identifier")
        .values_list("identifier", flat=True)
    )


def list_run(
    content: bytes, funding_round, *, name: str = "list.csv", kind: str = "pp50_school"
) -> ImportRun:
    return ImportRun.objects.create(
        kind=ImportRun.Kind.ELIGIBILITY_LIST,
        file=SimpleUploadedFile(name, content),
        funding_round=funding_round,
        list_kind=kind,
    )


def gias_run(content: bytes, name: str = "gias.csv") -> ImportRun:
    return ImportRun.objects.create(kind=ImportRun.Kind.GIAS, file=SimpleUploadedFile(name, content))


@pytest.fixture
def list_of_ten(round_2025):
    import_eligibility_list(list_file(urns(100001, 10)), funding_round=round_2025, kind="pp50_school")
    return urns(100001, 10)


# --- Short rows -----------------------------------------------------------------------------------


def test_a_short_row_fails_the_list_run_by_line_and_leaves_the_list(round_2025, list_of_ten):
    content = list_file(urns(100001, 10)) + b"100011\r\n"  # the header has two columns
    run = import_run_execute(list_run(content, round_2025))
    assert run.status == "failed"
    assert run.message.startswith("Line 12 does not have the 2 values of the header")
    assert run.problems == [[12, "has 1 values; the header has 2"]]
    assert stored(round_2025) == list_of_ten


def test_a_gias_file_cut_mid_row_loads_nothing_and_names_the_line():
    cut = GIAS[: GIAS.index(b"\n", len(GIAS) // 2) + 40]  # ends part-way through a row
    run = import_run_execute(gias_run(cut))
    assert run.status == "failed" and run.finished_at is not None
    assert "Line 6 does not have the 23 values of the header" in run.message
    assert not Institution.objects.exists()


# --- Not a CSV file -------------------------------------------------------------------------------


def test_an_xlsx_upload_fails_the_run_with_a_message(round_2025, list_of_ten):
    workbook = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 40
    run = import_run_execute(list_run(workbook, round_2025, name="pp50.xlsx"))
    assert run.status == "failed"
    assert run.message.startswith("This is an Excel workbook (.xlsx)")
    assert "CSV UTF-8" in run.message
    assert stored(round_2025) == list_of_ten


def test_a_binary_file_is_refused_naming_the_line():
    with pytest.raises(MalformedFile, match=r"line 2 contains binary data") as refused:
        import_gias(b"URN,EstablishmentName\r\n1\x00\x00\x00,x\r\n")
    assert refused.value.problems == [(2, "contains a zero byte (binary data)")]


def test_admin_refuses_a_workbook_next_to_the_file_field(client, superuser, round_2025):
    client.force_login(superuser)
    upload = SimpleUploadedFile("pp50.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    response = client.post(
        reverse("admin:funding_importrun_add"),
        {
            "kind": "eligibility_list",
            "file": upload,
            "funding_round": round_2025.pk,
            "list_kind": "pp50_school",
        },
    )
    assert response.status_code == 200
    assert "This is an Excel workbook (.xlsx)" in response.content.decode()
    assert not ImportRun.objects.exists()


# --- A worker stopped mid-way ---------------------------------------------------------------------


def test_an_error_in_the_middle_of_a_gias_load_leaves_the_previous_data(monkeypatch):
    import_gias(GIAS)
    before = list(Institution.objects.order_by("urn").values())
    written = []
    real = imports._load_staged

    def killed_after_writing(outcome, loading):
        real(outcome, loading)
        written.append(Institution.objects.filter(name__contains="Academy").count())
        raise RuntimeError("worker killed")

    monkeypatch.setattr(imports, "STAGE_ROWS", 2)  # staged in several pieces
    monkeypatch.setattr(imports, "_load_staged", killed_after_writing)
    renamed = GIAS.replace(b"School", b"Academy").replace(b"Nursery", b"Centre")
    run = import_run_execute(gias_run(renamed))
    assert written and written[0] > 1  # the rows were written, then the worker failed
    assert run.status == "failed"
    assert "unexpected error (RuntimeError)" in run.message and "Nothing was loaded" in run.message
    assert list(Institution.objects.order_by("urn").values()) == before


def test_a_file_staged_in_pieces_loads_and_counts_like_one(monkeypatch):
    monkeypatch.setattr(imports, "STAGE_ROWS", 2)
    assert import_gias(GIAS).created == 9
    renamed = GIAS.replace(b"Northfield Academy", b"Northfield Academy Trust")
    outcome = import_gias(renamed)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 8)
    assert Institution.objects.filter(name="Northfield Academy Trust").count() == 1
    assert import_gias(renamed).unchanged == 9


def test_a_soft_time_limit_fails_the_run_in_words(monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(imports, "_load_staged", too_slow)
    run = import_run_execute(gias_run(GIAS))
    assert run.status == "failed"
    assert run.message.startswith("The import took longer than the 240 seconds a worker allows")
    assert not Institution.objects.exists()


def test_a_file_gone_from_storage_fails_the_run_in_words():
    run = gias_run(GIAS)
    run.file.storage.delete(run.file.name)
    run = import_run_execute(run)
    assert run.status == "failed" and run.message.startswith("The uploaded file could not be read")


# --- Lists: cut, header only, spreadsheet numbers -----------------------------------------------


def test_a_list_cut_below_half_is_not_replaced_until_a_superuser_confirms(
    client, superuser, round_2025, list_of_ten, django_capture_on_commit_callbacks
):
    cut = list_file([*urns(100001, 3), "200001"])  # 3 of the 10 kept and 1 new: fewer than half
    run = import_run_execute(list_run(cut, round_2025))
    assert run.status == "needs_confirmation"
    assert run.changes["current"] == 10 and run.changes["incoming"] == 4
    assert (run.changes["removed"], run.changes["added"], run.changes["unchanged"]) == (7, 1, 3)
    assert run.changes["removed_sample"] == urns(100004, 7)
    assert stored(round_2025) == list_of_ten  # nothing changed yet

    Institution.objects.create(urn=100004, name="Hillside Primary School")
    client.force_login(superuser)
    change_page = client.get(reverse("admin:funding_importrun_change", args=[run.pk])).content.decode()
    confirm_url = reverse("admin:funding_importrun_confirm", args=[run.pk])
    assert confirm_url in change_page
    page = client.get(confirm_url).content.decode()
    assert "This file would leave 4 of the 10 settings on the list (40%)" in page
    assert "Hillside Primary School" in page and "200001" in page and "100010" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url, {"decision": "replace"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "done" and run.confirmed_by == superuser and run.confirmed_at is not None
    assert (run.created, run.removed, run.unchanged) == (1, 7, 3)
    assert stored(round_2025) == [*urns(100001, 3), "200001"]


def test_keeping_the_current_list_cancels_the_run(client, superuser, round_2025, list_of_ten):
    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    client.force_login(superuser)
    client.post(reverse("admin:funding_importrun_confirm", args=[run.pk]), {"decision": "keep"})
    run.refresh_from_db()
    assert run.status == "cancelled" and "chose to keep the current list" in run.message
    assert stored(round_2025) == list_of_ten


def test_a_confirmation_holds_only_for_the_list_that_was_seen(superuser, round_2025, list_of_ten):
    from funding.imports import import_run_confirm

    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    EligibilityListEntry.objects.create(funding_round=round_2025, kind="pp50_school", identifier="300001")
    import_run_confirm(run=run, by=superuser)
    run = import_run_execute(run)
    assert run.status == "needs_confirmation"
    assert "The list has changed since the replacement was confirmed" in run.message
    assert len(stored(round_2025)) == 11


def test_only_superusers_see_the_confirmation_page(client, round_2025, list_of_ten):
    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    client.force_login(HubStaffFactory(hub=HubFactory()))
    url = reverse("admin:funding_importrun_confirm", args=[run.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "replace"}).status_code == 403
    run.refresh_from_db()
    assert run.status == "needs_confirmation"


def test_a_list_that_keeps_half_replaces_without_asking(round_2025, list_of_ten):
    outcome = import_eligibility_list(
        list_file(urns(100001, 5)), funding_round=round_2025, kind="pp50_school"
    )
    assert (outcome.removed, outcome.unchanged) == (5, 5)
    assert stored(round_2025) == urns(100001, 5)


def test_the_command_replaces_a_shrinking_list_only_with_confirm(round_2025, list_of_ten, tmp_path, capsys):
    path = tmp_path / "cut.csv"
    path.write_bytes(list_file(urns(100001, 2)))
    with pytest.raises(CommandError, match="--confirm"):
        call_command("import_eligibility_list", str(path), "--round", "2025", "--kind", "pp50_school")
    assert "Would remove 8 (such as 100003" in capsys.readouterr().err
    assert stored(round_2025) == list_of_ten
    call_command(
        "import_eligibility_list", str(path), "--round", "2025", "--kind", "pp50_school", "--confirm"
    )
    assert stored(round_2025) == urns(100001, 2)


@pytest.mark.parametrize(
    "content", [b"URN,School name\r\n", b"URN,School name\r\n\r\n,,\r\n", b"\xef\xbb\xbfURN\n"]
)
def test_a_header_only_file_is_refused(round_2025, list_of_ten, content):
    run = import_run_execute(list_run(content, round_2025))
    assert run.status == "failed"
    assert run.message == "The file has a header but no rows. Nothing was loaded."
    assert stored(round_2025) == list_of_ten


def test_an_empty_file_is_refused(round_2025, list_of_ten):
    run = import_run_execute(list_run(b"", round_2025))
    assert (run.status, run.message) == ("failed", "The file is empty. Nothing was loaded.")


def test_a_file_whose_every_identifier_is_unreadable_never_empties_the_list(round_2025, list_of_ten):
    content = list_file(["1.00E+05", "n/a"])
    run = import_run_execute(list_run(content, round_2025))
    assert run.status == "failed" and run.message.startswith("None of the file's 2 rows has a URN")
    assert [line for line, _ in run.problems] == [2, 3]
    assert stored(round_2025) == list_of_ten


def test_a_gias_file_with_no_readable_row_fails_rather_than_loading_nothing():
    header = GIAS.split(b"\n", 1)[0]
    run = import_run_execute(gias_run(header + b"\n" + b",".join([b"x"] * 23) + b"\n"))
    assert run.status == "failed" and run.message.startswith("None of the file's 1 row could be read")
    assert run.problems == [[2, "LA (code) 'x' is not a 3-digit code"]]


def test_spreadsheet_style_numbers_are_read_as_whole_numbers(round_2025, list_of_ten):
    excel = list_file([f"{urn}.0" for urn in urns(100001, 10)])
    outcome = import_eligibility_list(excel, funding_round=round_2025, kind="pp50_school")
    assert (outcome.unchanged, outcome.created, outcome.removed, outcome.problems) == (10, 0, 0, [])
    gias = GIAS.replace(b"137001,886", b"137001.0,886.0").replace(b",1104,10034111,", b",1104.0,10034111.0,")
    import_gias(gias)
    academy = Institution.objects.get(urn=137001)
    assert (academy.la_code, academy.number_of_pupils, academy.ukprn) == ("886", 1104, 10034111)


# --- Encodings ------------------------------------------------------------------------------------

NAMES_CP1252 = "URN,EstablishmentName\r\n137001,St Mary\u2019s C of E \u2013 Primary\r\n137002,\u00c9cole Fran\u00e7aise\r\n"


def test_a_windows_1252_file_is_read_as_windows_1252():
    assert decode(NAMES_CP1252.encode("cp1252")) == NAMES_CP1252
    assert decode(NAMES_CP1252.encode("utf-8")) == NAMES_CP1252
    assert decode(b"\xef\xbb\xbf" + NAMES_CP1252.encode("utf-8")) == NAMES_CP1252


def test_a_byte_undefined_in_windows_1252_is_reported_by_its_line(round_2025, list_of_ten):
    content = list_file(urns(100001, 10)).replace(b"School 100003", b"Caf\xe9 \x81 School")
    content = content.replace(b"School 100007", b"Ecole \x9d")
    run = import_run_execute(list_run(content, round_2025))
    assert run.status == "failed"
    assert "lines 4 and 8 have bytes that Windows-1252 does not define" in run.message
    assert "ISO-8859-1" in run.message
    assert run.problems == [
        [4, "byte 0x81 is not a character in Windows-1252 (a control character in ISO-8859-1)"],
        [8, "byte 0x9D is not a character in Windows-1252 (a control character in ISO-8859-1)"],
    ]
    assert stored(round_2025) == list_of_ten


def test_a_gias_file_in_windows_1252_loads_its_names_right():
    name = "St Mary\u2019s C of E \u2013 Primary"
    import_gias(GIAS.replace(b"Northfield Academy", name.encode("cp1252")))
    assert Institution.objects.get(urn=137001).name == name
    assert Institution.objects.get(urn=131214).name == "\u00c9cole Jeannine Manuel"


def test_a_file_mixing_utf8_and_another_encoding_is_refused():
    mixed = "URN,Name\n1,\u00c9cole\n".encode() + b"2,Caf\xe9\n"
    with pytest.raises(MalformedFile, match=r"is UTF-8 \(line 2, for one\), but line 3 is not") as refused:
        decode(mixed)
    assert refused.value.problems == [(3, "is not UTF-8, unlike the rest of the file")]


# --- Runs left running ----------------------------------------------------------------------------


def test_a_silent_running_run_is_failed_by_the_sweep(settings):
    settings.IMPORT_STALE_MINUTES = 10
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START)
    with time_machine.travel(START + timedelta(minutes=9), tick=False):
        assert import_runs_fail_stale() == 0
    run.refresh_from_db()
    assert run.status == "running"
    with time_machine.travel(START + timedelta(minutes=11), tick=False):
        assert import_runs_fail_stale() == 1
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at == START + timedelta(minutes=11)
    assert "last heard from more than 10 minutes ago" in run.message and "Run again" in run.message


def test_the_scheduled_sweep_is_recorded_as_a_job(settings):
    from funding.tasks import fail_stale_imports
    from notifications.models import JobRun

    assert settings.CELERY_BEAT_SCHEDULE["fail-stale-imports"]["task"] == "funding.tasks.fail_stale_imports"
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START)
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert fail_stale_imports.apply().get() == 1
    assert JobRun.objects.get(job="fail_stale_imports").sent == 1


def test_a_failed_run_can_be_run_again_from_admin(client, superuser, django_capture_on_commit_callbacks):
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(
        status="failed", message="The import stopped without finishing."
    )
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:funding_importrun_changelist"),
            {"action": "run_again", "_selected_action": [run.pk]},
            follow=True,
        )
    again = ImportRun.objects.get(rerun_of=run)
    assert f"Import queued again as #{again.pk}." in response.content.decode()
    assert again.status == "done" and again.file.name == run.file.name and again.started_by == superuser
    assert Institution.objects.count() == 9


def test_a_run_stuck_in_the_queue_is_sent_again_and_a_finished_one_left(
    client, superuser, django_capture_on_commit_callbacks
):
    queued, done = gias_run(GIAS), gias_run(GIAS)  # the broker lost the first one's message
    ImportRun.objects.filter(pk=done.pk).update(status="done")
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:funding_importrun_changelist"),
            {"action": "run_again", "_selected_action": [queued.pk, done.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert f"Import queued again as #{queued.pk}." in page
    assert "1 import was left as it is: only failed, cancelled or queued imports run again." in page
    queued.refresh_from_db()
    assert queued.status == "done" and ImportRun.objects.count() == 2


def test_a_run_checking_its_file_writes_progress_and_a_heartbeat(monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 3)
    seen = []
    real = imports._load_staged

    def watch(outcome, loading):
        seen.append(ImportRun.objects.values_list("rows_done", "rows_total", "heartbeat_at", "message").get())
        real(outcome, loading)

    monkeypatch.setattr(imports, "_load_staged", watch)
    with time_machine.travel(START, tick=False):
        run = import_run_execute(gias_run(GIAS))
    assert seen == [(0, 9, START, "Loading 9 establishments, all or nothing.")]
    assert (run.status, run.rows_done, run.attempts, run.started_at) == ("done", 9, 1, START)


# PostgreSQL: a run's worker holds an advisory lock while it works, so "running" with the lock
# free means its worker is gone.


def other_session():
    import psycopg

    need(connection.vendor == "postgresql", "PostgreSQL")
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "localhost",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def test_a_run_whose_worker_is_alive_is_neither_swept_nor_taken_over(settings):
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START)
    with other_session() as worker:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [imports.IMPORT_LOCK_SPACE, run.pk])
        with time_machine.travel(START + timedelta(hours=1), tick=False):
            assert import_runs_fail_stale() == 0
            assert import_run_execute(run).status == "running"  # a second delivery does nothing
    assert not Institution.objects.exists()


def test_a_redelivered_task_takes_over_a_run_whose_worker_died():
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=START, attempts=1)
    need(connection.vendor == "postgresql", "PostgreSQL")
    run = import_run_execute(run)
    assert (run.status, run.attempts, Institution.objects.count()) == ("done", 2, 9)


def test_a_run_whose_worker_keeps_dying_is_failed_not_restarted():
    need(connection.vendor == "postgresql", "PostgreSQL")
    run = gias_run(GIAS)
    ImportRun.objects.filter(pk=run.pk).update(status="running", attempts=imports.MAX_ATTEMPTS)
    run = import_run_execute(run)
    assert run.status == "failed" and f"started {imports.MAX_ATTEMPTS} times" in run.message
    assert not Institution.objects.exists()


# --- The confirmation page in a browser -----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_confirmation_page_passes_axe_and_replaces_the_list(live_server, chromium_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS
    from tests.test_accessibility import AXE, WCAG_22_AA, session_cookie

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    round_2025 = FundingRound.objects.get(code="2025")
    import_eligibility_list(list_file(urns(100001, 10)), funding_round=round_2025, kind="pp50_school")
    run = import_run_execute(list_run(list_file(urns(100001, 2)), round_2025))
    cookie = session_cookie(UserFactory(is_staff=True, is_superuser=True))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True)  # to add axe's script to the page
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
            page = context.new_page()
            page.goto(live_server.url + reverse("admin:funding_importrun_confirm", args=[run.pk]))
            assert "would leave 2 of the 10 settings" in page.inner_text("#list-shrinks")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
            )
            assert [violation["id"] for violation in result["violations"]] == []
            page.get_by_role("button", name="Replace the list with this file").click()
            page.wait_for_load_state()
            assert "Confirmed: the list will be replaced." in page.content()
        finally:
            browser.close()
    assert stored(round_2025) == urns(100001, 2)
