"""Imports never half-load, never empty a list by accident and never stay "running" forever.

Each test pins one fault found in the files imported: short rows, workbooks, a header-only,
empty or unreadable list, spreadsheet numbers and encodings.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.csv_files import MalformedFile, decode
from funding.imports import import_eligibility_list, import_gias, import_run_execute
from funding.models import FundingRound, ImportRun, Institution
from tests.factories import UserFactory
from tests.funding_import_support import (
    GIAS,
    gias_run,
    list_file,
    list_run,
    stored,
    urns,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_2025():
    return FundingRound.objects.get(code="2025")


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


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


# --- Lists: header only, unreadable, spreadsheet numbers ------------------------------------------


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
