"""Files and runs shared by the import reliability tests
(tests/test_funding_import_reliability_*.py)."""

from datetime import UTC, datetime
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from funding.models import EligibilityListEntry, ImportRun

DATA = Path(__file__).parent / "data"
GIAS = (DATA / "gias_sample.csv").read_bytes()
START = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


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
