"""DfE's six eligibility list files, as published: recognised by their header, in UTF-8 or
ISO-8859-1, bad rows reported by line, and each replacement kept in the list's history."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from funding.imports import MalformedFile, import_eligibility_list
from funding.models import EligibilityListChange, EligibilityListEntry, FundingRound, ImportRun
from tests.factories import HubFactory, HubStaffFactory, UserFactory

pytestmark = pytest.mark.django_db

# Each DfE list: its header row as DfE publishes it, two rows, and what they store.
SIX_FILES = [
    ("pp50_school", "PP50 School URN", ["137001", "118234"], ["118234", "137001"]),
    ("pp50_fe", "FE UKPRN", ["10034111", "10001234"], ["10001234", "10034111"]),
    (
        "childminder",
        "Childminder URN",
        ["EY248638", "CA000006", "225540"],
        ["225540", "CA000006", "EY248638"],
    ),
    (
        "disadvantaged_early_years",
        "Disadvantaged EY School URN,Ofsted URN",
        # A school by its URN; a setting with both is stored by its Ofsted URN, as DfE reads it.
        ["150014,", "531156,EY555509"],
        ["150014", "EY555509"],
    ),
    ("la_disadvantaged_nursery", "LA Nursery URN", ["100996", "101123"], ["100996", "101123"]),
    ("rise", "RISE School URN", ["140101", "141202"], ["140101", "141202"]),
]


@pytest.fixture
def round_2025():
    return FundingRound.objects.get(code="2025")


def dfe_file(header: str, rows: list[str], *, encoding: str = "utf-8-sig", newline: str = "\r\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode(encoding)


def stored(funding_round, kind: str) -> list[str]:
    return sorted(
        EligibilityListEntry.objects.filter(funding_round=funding_round, kind=kind).values_list(
            "identifier", flat=True
        )
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "iso-8859-1"])
@pytest.mark.parametrize(("kind", "header", "rows", "expected"), SIX_FILES, ids=[f[0] for f in SIX_FILES])
def test_each_dfe_file_is_recognised_by_its_header_and_loads(
    round_2025, kind, header, rows, expected, encoding
):
    outcome = import_eligibility_list(dfe_file(header, rows, encoding=encoding), funding_round=round_2025)
    assert outcome.kind == kind
    assert (outcome.created, outcome.problems) == (len(expected), [])
    assert stored(round_2025, kind) == expected
    assert EligibilityListEntry.objects.exclude(kind=kind).count() == 0  # no other list touched


def test_an_iso_8859_1_file_with_more_columns_reads_its_names_and_finds_the_list(round_2025):
    content = "School name,PP50 School URN\nÉcole Jeannine Manuel,131214\nSt Mary’s,137001\n"
    outcome = import_eligibility_list(content.encode("cp1252"), funding_round=round_2025)
    assert outcome.kind == "pp50_school" and stored(round_2025, "pp50_school") == ["131214", "137001"]


def test_bad_rows_are_reported_by_line_in_the_lists_own_terms(round_2025):
    content = dfe_file("PP50 School URN", ["137001", "EY123456", "", "12", "137001", "137001.0", "118234"])
    outcome = import_eligibility_list(content, funding_round=round_2025)
    assert outcome.problems == [
        (3, "\"PP50 School URN\" 'EY123456' is not a URN (a number like 137001)"),
        (5, "\"PP50 School URN\" '12' is not a URN (a number like 137001)"),
        (6, "137001 appears more than once"),
        (7, "137001 appears more than once"),  # a spreadsheet's 137001.0 is the same school
    ]
    assert stored(round_2025, "pp50_school") == ["118234", "137001"]
    ukprns = import_eligibility_list(dfe_file("FE UKPRN", ["10034111", "137001"]), funding_round=round_2025)
    assert ukprns.problems == [
        (3, "\"FE UKPRN\" '137001' is not a UKPRN (8 digits starting with 1, like 10034111)")
    ]
    early_years = import_eligibility_list(
        dfe_file("Disadvantaged EY School URN,Ofsted URN", [",EY1", "150014,"]), funding_round=round_2025
    )
    assert early_years.problems == [
        (2, "\"Ofsted URN\" 'EY1' is not an Ofsted URN (like EY123456, CA000006 or 225540)")
    ]


def test_a_file_for_another_list_than_the_one_chosen_loads_nothing(round_2025):
    import_eligibility_list(dfe_file("PP50 School URN", ["137001"]), funding_round=round_2025)
    with pytest.raises(
        MalformedFile,
        match=r"This file is DfE's list “Childminders” .*not the list chosen, “Top 50% of schools by pupil premium”",
    ):
        import_eligibility_list(
            dfe_file("Childminder URN", ["EY248638"]), funding_round=round_2025, kind="pp50_school"
        )
    with pytest.raises(MalformedFile, match="is not that of one of DfE's eligibility lists"):
        import_eligibility_list(b"Setting\r\n137001\r\n", funding_round=round_2025)
    with pytest.raises(MalformedFile, match="more than one of DfE's lists"):
        import_eligibility_list(b"PP50 School URN,RISE School URN\r\n1,2\r\n", funding_round=round_2025)
    assert stored(round_2025, "pp50_school") == ["137001"]
    assert stored(round_2025, "childminder") == []


def test_a_file_of_our_own_shape_still_loads_into_the_list_chosen(round_2025):
    outcome = import_eligibility_list(b"URN,Name\r\n137001,A\r\n", funding_round=round_2025, kind="rise")
    assert outcome.kind == "rise" and stored(round_2025, "rise") == ["137001"]


def test_each_replacement_records_what_it_added_and_removed(round_2025):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    import_eligibility_list(
        dfe_file("RISE School URN", ["140101", "140102"]), funding_round=round_2025, by=superuser
    )
    import_eligibility_list(
        dfe_file("RISE School URN", ["140102", "140103", "140104"]), funding_round=round_2025
    )
    import_eligibility_list(
        dfe_file("RISE School URN", ["140102", "140103", "140104"]), funding_round=round_2025
    )
    first, second = EligibilityListChange.objects.order_by("pk")  # the same file again records nothing
    assert (first.kind, first.entries_before, first.entries_after, first.added, first.removed) == (
        "rise",
        0,
        2,
        ["140101", "140102"],
        [],
    )
    assert first.replaced_by == superuser
    assert (second.added, second.removed, second.entries_before, second.entries_after) == (
        ["140103", "140104"],
        ["140101"],
        2,
        3,
    )


def test_a_replacement_is_all_or_nothing_with_its_history(round_2025):
    import_eligibility_list(dfe_file("RISE School URN", ["140101"]), funding_round=round_2025)
    with (
        mock.patch.object(EligibilityListChange.objects, "create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        import_eligibility_list(dfe_file("RISE School URN", ["140102", "140103"]), funding_round=round_2025)
    assert stored(round_2025, "rise") == ["140101"]
    assert EligibilityListChange.objects.count() == 1


def test_the_command_reads_the_list_from_the_header(round_2025, tmp_path, capsys):
    path = tmp_path / "childminders.csv"
    path.write_bytes(dfe_file("Childminder URN", ["EY248638"], encoding="iso-8859-1"))
    call_command("import_eligibility_list", str(path), "--round", "2025")
    assert "Childminders (2025): 1 row read: 1 added" in capsys.readouterr().out
    assert ImportRun.objects.get().list_kind == "childminder"
    with pytest.raises(CommandError, match="This file is DfE's list “Childminders”"):
        call_command("import_eligibility_list", str(path), "--round", "2025", "--kind", "rise")
    assert ImportRun.objects.count() == 1  # refused before a run was made


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", content, content_type="text/csv")


def test_a_superuser_replaces_a_list_in_one_step_and_sees_its_history(
    client, round_2025, django_capture_on_commit_callbacks
):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    import_eligibility_list(dfe_file("LA Nursery URN", ["100996"]), funding_round=round_2025)
    form = client.get(reverse("admin:funding_fundinground_change", args=[round_2025.pk])).content.decode()
    assert "Replace the list “Local authority nurseries”" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:funding_importrun_add"),
            {
                "kind": "eligibility_list",
                "file": upload(dfe_file("LA Nursery URN", ["100996", "101123"])),
                "funding_round": round_2025.pk,
                "list_kind": "",  # read from the header
            },
        )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert (run.status, run.list_kind) == ("done", "la_disadvantaged_nursery")
    assert stored(round_2025, "la_disadvantaged_nursery") == ["100996", "101123"]
    change = EligibilityListChange.objects.get(import_run=run)
    assert (change.added, change.removed, change.replaced_by) == (["101123"], [], superuser)
    run_page = client.get(reverse("admin:funding_importrun_change", args=[run.pk])).content.decode()
    assert "1 added, 0 removed" in run_page
    history = client.get(reverse("admin:funding_eligibilitylistchange_changelist"), {"q": "101123"})
    assert list(history.context["cl"].result_list) == [change]
    page = client.get(
        reverse("admin:funding_eligibilitylistchange_change", args=[change.pk])
    ).content.decode()
    assert "101123" in page and "1 before, 2 after" in page


def test_the_upload_form_refuses_a_file_for_another_list_next_to_the_field(client, round_2025):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:funding_importrun_add"),
        {
            "kind": "eligibility_list",
            "file": upload(dfe_file("FE UKPRN", ["10034111"])),
            "funding_round": round_2025.pk,
            "list_kind": "pp50_school",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "This file is DfE's list “Top 50% of 16 to 19 settings by disadvantage”" in errors["list_kind"][0]
    assert not ImportRun.objects.exists()


def test_hub_staff_see_no_list_history(client, round_2025):
    import_eligibility_list(dfe_file("RISE School URN", ["140101"]), funding_round=round_2025)
    client.force_login(HubStaffFactory(hub=HubFactory()))
    url = reverse("admin:funding_eligibilitylistchange_change", args=[EligibilityListChange.objects.get().pk])
    assert client.get(url).status_code in (302, 403)


def test_the_history_search_takes_any_text(client, round_2025):
    import_eligibility_list(dfe_file("RISE School URN", ["140101"]), funding_round=round_2025)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:funding_eligibilitylistchange_changelist")
    found = {}
    for term in ("140101", " 140101 ", "\x00", "' OR 1=1 --", "é" * 300, "EY\x00"):
        response = client.get(url, {"q": term})
        assert response.status_code == 200
        found[term] = len(response.context["cl"].result_list)
    # Django's own search form refuses a NUL byte (the list is shown unsearched).
    assert found == {"140101": 1, " 140101 ": 1, "\x00": 1, "' OR 1=1 --": 0, "é" * 300: 0, "EY\x00": 1}


def test_hub_staff_read_a_rounds_lists_without_the_links_to_replace_them(client, round_2025):
    import_eligibility_list(dfe_file("RISE School URN", ["140101", "140102"]), funding_round=round_2025)
    client.force_login(HubStaffFactory(hub=HubFactory()))
    page = client.get(reverse("admin:funding_fundinground_change", args=[round_2025.pk])).content.decode()
    assert "RISE schools" in page and "2 settings" in page
    assert "Replace the list" not in page
