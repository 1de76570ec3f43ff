"""Reading uploaded CSV files: what kind of file it is, its encoding, and its rows, streamed.

A file is read in pieces (never whole into memory), twice: once to decide its encoding and
refuse what is not a CSV file, then row by row. Every refusal is a ``MalformedFile`` whose
message says in words what is wrong and, where it is about lines, which ones.

Encoding, decided per file (docs/decisions.md, 25): UTF-8, with or without a byte order mark;
otherwise Windows-1252, which GIAS uses. A file that is neither (bytes Windows-1252 leaves
undefined, which ISO-8859-1 would read as invisible control characters) or that mixes UTF-8 with
something else is refused, naming the lines; nothing is ever decoded as Latin-1 "to be safe".
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from django.db.models.fields.files import FieldFile

CHUNK_BYTES = 1 << 20
# No CSV line of ours comes near this; a file with none shorter is not a CSV file.
MAX_LINE_BYTES = 1 << 20
LINES_NAMED = 10  # lines named in a message; the run's problems list keeps more

# Bytes Windows-1252 leaves undefined. ISO-8859-1 maps them to C1 control characters.
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
NON_ASCII = re.compile(rb"[\x80-\xff]")

Source = Callable[[], AbstractContextManager[BinaryIO]]


class MalformedFile(ValueError):
    """The file as a whole cannot be used: nothing is loaded.

    ``problems`` names the lines at fault, as (line, message) pairs, when there are any.
    """

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


SAVE_AS_CSV = (
    'Open it in Excel, choose File > Save As, pick "CSV UTF-8 (Comma delimited)" and upload that file.'
)
SIGNATURES = (
    (
        b"PK\x03\x04",
        f"This is an Excel workbook (.xlsx) or another zipped file, not a CSV file. {SAVE_AS_CSV}",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        f"This is an Excel 97-2003 workbook (.xls) or another Office file, not a CSV file. {SAVE_AS_CSV}",
    ),
    (codecs.BOM_UTF16_LE, f'This file is saved as UTF-16 ("Unicode Text"), not as a CSV file. {SAVE_AS_CSV}'),
    (codecs.BOM_UTF16_BE, f'This file is saved as UTF-16 ("Unicode Text"), not as a CSV file. {SAVE_AS_CSV}'),
    (b"%PDF", "This is a PDF document, not a CSV file."),
    (b"\x1f\x8b", "This is a compressed (.gz) file. Uncompress it and upload the CSV file inside."),
)
NOTHING_LOADED = "Nothing was loaded."


def source_of(data: bytes | Path | FieldFile) -> Source:
    """Something that opens the file afresh for each reading."""
    if isinstance(data, bytes | bytearray):
        return lambda: io.BytesIO(data)
    if isinstance(data, Path):
        return lambda: data.open("rb")
    if isinstance(data, FieldFile):
        return lambda: data.storage.open(data.name, "rb")
    raise TypeError(f"Cannot read {type(data).__name__}")


def refuse_if_not_text(head: bytes) -> None:
    """Refuse a workbook, PDF, UTF-16 or compressed file from its first bytes."""
    if not head.strip():
        raise MalformedFile(f"The file is empty. {NOTHING_LOADED}")
    for signature, message in SIGNATURES:
        if head.startswith(signature):
            raise MalformedFile(f"{message} {NOTHING_LOADED}")


def lines_in_words(lines: list[int], total: int) -> str:
    """'line 4', 'lines 4 and 9', 'lines 4, 9, 12 and 20 more'."""
    named = [str(line) for line in lines[:LINES_NAMED]]
    more = total - len(named)
    if more > 0:
        return f"lines {', '.join(named)} and {more} more"
    if len(named) == 1:
        return f"line {named[0]}"
    return f"lines {', '.join(named[:-1])} and {named[-1]}"


class _EncodingScan:
    """What one pass over the bytes found, line by line (a line ends with a line feed)."""

    def __init__(self) -> None:
        self.not_utf8: list[int] = []
        self.not_utf8_total = 0
        self.first_utf8_line: int | None = None  # a line with non-ASCII text valid as UTF-8
        self.undefined: list[tuple[int, int]] = []  # (line, byte)
        self.undefined_lines_total = 0
        self._last_undefined_line = 0

    def block(self, block: bytes, first_line: int) -> None:
        """Scan whole lines ``block`` starting at line ``first_line``."""
        nul = block.find(b"\x00")
        if nul >= 0:
            line = first_line + block.count(b"\n", 0, nul)
            raise MalformedFile(
                f"This is not a CSV text file: line {line} contains binary data (a zero byte). {SAVE_AS_CSV} "
                + NOTHING_LOADED,
                [(line, "contains a zero byte (binary data)")],
            )
        if block.isascii():
            return
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            self._lines(block, first_line)
        else:
            if self.first_utf8_line is None:
                first = NON_ASCII.search(block)
                self.first_utf8_line = first_line + block.count(b"\n", 0, first.start())
        for match in CP1252_UNDEFINED.finditer(block):
            line = first_line + block.count(b"\n", 0, match.start())
            if line != self._last_undefined_line:
                self._last_undefined_line = line
                self.undefined_lines_total += 1
                if len(self.undefined) < 1000:
                    self.undefined.append((line, block[match.start()]))

    def _lines(self, block: bytes, first_line: int) -> None:
        for offset, line in enumerate(block.split(b"\n")):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                self.not_utf8_total += 1
                if len(self.not_utf8) < 1000:
                    self.not_utf8.append(first_line + offset)
            else:
                if self.first_utf8_line is None:
                    self.first_utf8_line = first_line + offset

    def encoding(self, *, bom: bool) -> str:
        if not self.not_utf8_total:
            return "utf-8-sig"  # also reads a file without the byte order mark
        where = lines_in_words(self.not_utf8, self.not_utf8_total)
        problems = [(line, "is not UTF-8, unlike the rest of the file") for line in self.not_utf8]
        if bom or self.first_utf8_line is not None:
            start = "starts as UTF-8" if bom else f"is UTF-8 (line {self.first_utf8_line}, for one)"
            raise MalformedFile(
                f"The file {start}, but {where} {'is' if self.not_utf8_total == 1 else 'are'} not: it mixes "
                f"encodings, so some names would be read wrongly. Save the file again as UTF-8 and upload it. "
                + NOTHING_LOADED,
                problems,
            )
        if self.undefined:
            lines = [line for line, _ in self.undefined]
            raise MalformedFile(
                f"The file is not UTF-8 and cannot be read as Windows-1252 either: {lines_in_words(lines, self.undefined_lines_total)} "
                f"{'has a byte' if self.undefined_lines_total == 1 else 'have bytes'} that Windows-1252 does not define "
                "(in ISO-8859-1 they would be invisible control characters), so names there would be read wrongly. "
                f"Save the file as UTF-8 and upload it again. {NOTHING_LOADED}",
                [
                    (
                        line,
                        f"byte 0x{byte:02X} is not a character in Windows-1252 (a control character in ISO-8859-1)",
                    )
                    for line, byte in self.undefined
                ],
            )
        return "cp1252"


def detect_encoding(handle: BinaryIO) -> str:
    """The file's encoding: "utf-8-sig" or "cp1252"; refuses binary files and undecidable text.

    Reads the file in 1 MB pieces, cut at line ends so a character is never split.
    """
    head = handle.read(CHUNK_BYTES)
    refuse_if_not_text(head)
    bom = head.startswith(codecs.BOM_UTF8)
    scan = _EncodingScan()
    line, carry, chunk = 1, b"", head[3:] if bom else head
    while chunk:
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > MAX_LINE_BYTES:
                raise MalformedFile(
                    f"Line {line} is longer than 1 MB: this is not a CSV file of rows. {NOTHING_LOADED}",
                    [(line, "is longer than 1 MB")],
                )
            carry = data
        else:
            block, carry = data[:cut], data[cut:]
            scan.block(block, line)
            line += block.count(b"\n")
        chunk = handle.read(CHUNK_BYTES)
    if carry:
        scan.block(carry, line)
    return scan.encoding(bom=bom)


def decode(raw: bytes) -> str:
    """The whole of a small file as text (see the module's note on encodings)."""
    return raw.decode(detect_encoding(io.BytesIO(raw)))


# --- Rows -----------------------------------------------------------------------------------------


class CsvFile:
    """A CSV file's header and rows, read from ``handle`` as they are needed."""

    def __init__(self, handle: BinaryIO, encoding: str):
        self._text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        self._reader = csv.reader(self._text)
        try:
            header = next(self._reader)
        except StopIteration:
            raise MalformedFile(f"The file is empty. {NOTHING_LOADED}") from None
        except csv.Error as exc:
            raise MalformedFile(f"The first line cannot be read as CSV ({exc}). {NOTHING_LOADED}") from None
        self.header = [name.strip() for name in header]

    def column(self, *wanted: str) -> str | None:
        """The header's own spelling of the first of ``wanted`` it has (any case)."""
        by_name = {name.lower(): name for name in self.header}
        return next((by_name[name.lower()] for name in wanted if name.lower() in by_name), None)

    def require(self, columns: set[str]) -> None:
        missing = sorted(columns - set(self.header))
        if missing:
            raise MalformedFile(
                f"The file is missing the column{'s' if len(missing) > 1 else ''} "
                + ", ".join(f'"{name}"' for name in missing)
                + f". {NOTHING_LOADED}"
            )

    def rows(self, columns: set[str] | list[str]) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, {column: value}) for each row with something in it.

        A row with fewer values than the header (a file cut short, or a broken quote), or more
        that are not empty, is not yielded; once every row has been read such rows refuse the
        file, naming their lines, as does a file with a header and no rows.
        """
        width = len(self.header)
        index = {name: self.header.index(name) for name in columns}
        wrong: list[tuple[int, str]] = []
        wrong_total = rows = 0
        reader = self._reader
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line = reader.line_num
                raise MalformedFile(
                    f"Line {line} cannot be read as CSV ({exc}). {NOTHING_LOADED}",
                    [(line, f"cannot be read: {exc}")],
                ) from None
            if not any(value.strip() for value in values):
                continue  # a blank line, or a spreadsheet's empty row of commas
            rows += 1
            if len(values) < width or (len(values) > width and any(v.strip() for v in values[width:])):
                wrong_total += 1
                if len(wrong) < 1000:
                    wrong.append((reader.line_num, f"has {len(values)} values; the header has {width}"))
                continue
            yield reader.line_num, {name: values[i] for name, i in index.items()}
        if wrong:
            where = lines_in_words([line for line, _ in wrong], wrong_total)
            raise MalformedFile(
                f"{where[0].upper()}{where[1:]} {'does' if wrong_total == 1 else 'do'} not have the {width} values "
                "of the header: the file may have been cut short, or saved with another separator or a "
                f"broken quote. {NOTHING_LOADED}",
                wrong,
            )
        if not rows:
            raise MalformedFile(f"The file has a header but no rows. {NOTHING_LOADED}")


def check_file(source: Source) -> str:
    """Read the whole file once: its encoding, or a MalformedFile."""
    with source() as handle:
        return detect_encoding(handle)
