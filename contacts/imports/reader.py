"""Read an uploaded contact file (CSV or XLSX) row by row, without touching the database.

Uploads can hold hundreds of thousands of contacts, so nothing here reads a whole file: CSV goes
through `csv.reader` over a buffered text stream, XLSX through openpyxl's read-only mode, and
detection looks at a bounded prefix. The import service maps and validates what comes out.
"""

import codecs
import csv
import datetime as dt
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from xml.etree.ElementTree import ParseError

import openpyxl
from django.utils.translation import gettext as _

# Order matters on ties: French Excel writes ';' and puts ',' inside values (decimal comma).
CSV_DELIMITERS = (";", "\t", ",")
SAMPLE_ROW_COUNT = 5
SNIFF_RECORD_COUNT = 50

_HEAD_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024
_UTF8_CHECK_BYTES = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
# Excel 97-2003 workbooks and password-protected .xlsx files are both OLE2 compound documents.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NON_TEXT_RATIO = 0.10

_NON_TEXT_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Also catches phone numbers ("+33 6 12 34 56 78"), zip codes and numeric dates ("12/05/1990").
_NUMBER = re.compile(r"[+-]?\(?\d[\d\s.,()/:-]*")
_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_HEADER_JUNK = " \t\r\n\ufeff\u200b\xa0"


class UnreadableFile(ValueError):
    """The upload cannot be imported; str(exc) is a translated message for the user."""


class _NotAWorkbook(UnreadableFile):
    pass


@dataclass(frozen=True)
class FileInfo:
    format: str
    encoding: str | None
    delimiter: str | None
    has_header: bool
    header: list[str]
    sample_rows: list[list[str]]
    column_count: int


_DOCUMENT_MAGICS = (b"%PDF-", b"{\\rtf", b"%!PS")


def sniff(path: str | os.PathLike, *, filename: str = "") -> FileInfo:
    """Detect format, encoding, delimiter and header, or raise UnreadableFile.

    The format is decided by content, not by `filename`: marketers rename files freely
    (an export called .xls that is really CSV is common). `filename` only sharpens messages.
    """
    with open(path, "rb") as file:
        head = file.read(_HEAD_BYTES)
    if not head:
        raise UnreadableFile(_("The file is empty."))
    if head.startswith(_ZIP_MAGIC):
        return _sniff_xlsx(path, filename)
    if head.startswith(_OLE2_MAGIC):
        raise UnreadableFile(
            _(
                "This looks like an old Excel 97-2003 (.xls) file or a password-protected "
                "workbook. Save it as .xlsx or CSV and try again."
            )
        )
    if head.lstrip().startswith(_DOCUMENT_MAGICS):
        # PDF, RTF and PostScript files can be plain text, yet are never contact tables.
        raise UnreadableFile(_("This is a document, not a CSV or XLSX file."))
    encoding = _detect_encoding(path, head)
    if _looks_binary(head, encoding):
        raise UnreadableFile(_("This is not a CSV or XLSX file (it looks binary)."))
    return _sniff_csv(path, encoding)


def iter_rows(path: str | os.PathLike, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """Yield (row_number, cells) for each non-blank data row, streaming.

    row_number is what the user sees in Excel: for XLSX the sheet row, for CSV the record
    number (a quoted cell spanning several physical lines is still one record, as in Excel).
    CSV rows come as they are, possibly ragged; XLSX rows are padded to `info.column_count`
    because a spreadsheet has no ragged rows, only empty trailing cells.
    """
    records = _records(path, info.format, info.encoding, info.delimiter)
    try:
        rows = _non_blank(records)
        if info.has_header:
            next(rows, None)
        for row_number, cells in rows:
            if info.format == "xlsx":
                cells = _pad(cells, info.column_count)
            yield row_number, cells
    finally:
        # Closing here, not leaving it to garbage collection, releases the file as soon as a
        # consumer stops early (a preview, an aborted import).
        records.close()


def count_data_rows(path: str | os.PathLike, info: FileInfo) -> int:
    """Count what iter_rows would yield, to size the progress bar before the import runs."""
    return sum(1 for _row in iter_rows(path, info))


def _sniff_csv(path, encoding: str) -> FileInfo:
    delimiter = _detect_delimiter(path, encoding)
    records = _first_records(_csv_records(path, encoding, delimiter))
    if not records:
        raise UnreadableFile(_("The file is empty."))
    return _file_info("csv", encoding, delimiter, records)


def _sniff_xlsx(path, filename: str) -> FileInfo:
    try:
        records = _first_records(_xlsx_records(path))
    except _NotAWorkbook as error:
        if filename.lower().endswith(".ods"):
            raise UnreadableFile(
                _(
                    "OpenDocument spreadsheets (.ods) cannot be read. "
                    "Save the file as .xlsx or CSV and try again."
                )
            ) from error
        raise
    if not records:
        raise UnreadableFile(_("The first sheet of this workbook is empty."))
    return _file_info("xlsx", None, None, records)


def _first_records(records: Iterator[tuple[int, list[str]]]) -> list[list[str]]:
    try:
        return [cells for _number, cells in islice(_non_blank(records), SNIFF_RECORD_COUNT)]
    finally:
        records.close()


def _file_info(format_: str, encoding, delimiter, records: list[list[str]]) -> FileInfo:
    first = [cell.strip(_HEADER_JUNK) for cell in records[0]]
    has_header = _looks_like_header(first)
    data = records[1:] if has_header else records
    # `records` holds every non-blank record when it is shorter than the sniffing window.
    if not data:
        raise UnreadableFile(_("The file has a header row but no data rows."))
    # The most common width, not the widest, so one stray trailing delimiter adds no column.
    usual_width = Counter(len(cells) for cells in data).most_common(1)[0][0]
    column_count = max(len(first), usual_width)
    names = first if has_header else []
    header = [
        names[index] if index < len(names) and names[index] else _column_name(index)
        for index in range(column_count)
    ]
    if format_ == "xlsx":
        data = [_pad(cells, column_count) for cells in data]
    return FileInfo(
        format=format_,
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
        header=header,
        sample_rows=data[:SAMPLE_ROW_COUNT],
        column_count=column_count,
    )


def _column_name(index: int) -> str:
    return _("Column %(number)d") % {"number": index + 1}


def _looks_like_header(cells: list[str]) -> bool:
    values = [cell for cell in cells if cell]
    if len(values) * 2 < len(cells):
        return False
    if any(_looks_like_data(value) for value in values):
        return False
    return len({value.casefold() for value in values}) * 2 > len(values)


def _looks_like_data(value: str) -> bool:
    return bool(_EMAIL.search(value) or _NUMBER.fullmatch(value) or _DATE.fullmatch(value))


def _detect_encoding(path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8" if _is_utf8(path) else "cp1252"


def _is_utf8(path) -> bool:
    """Validate UTF-8 from the first non-ASCII byte on, over up to 1 MB.

    Starting at the first non-ASCII byte rather than at the top of the file matters: a
    cp1252 export whose accents only appear in row 20 000 (a sparse "Ville" column) would
    otherwise pass as UTF-8 and every "é" would be lost. Pure ASCII chunks cost only a scan.
    The incremental decoder keeps state across chunks, so a character cut by a chunk
    boundary is not mistaken for invalid UTF-8.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    checked = 0
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            if not checked and chunk.isascii():
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            checked += len(chunk)
            if checked >= _UTF8_CHECK_BYTES:
                break
    return True


def _looks_binary(head: bytes, encoding: str) -> bool:
    if b"\x00" in head and encoding != "utf-16":
        return True
    text = head.decode(encoding, errors="replace")
    # A minimum count so one DOS end-of-file mark (Ctrl-Z) does not reject a tiny file.
    return len(_NON_TEXT_CHARS.findall(text)) > max(2, len(text) * _NON_TEXT_RATIO)


def _detect_delimiter(path, encoding: str) -> str:
    """Pick the delimiter giving the most consistent column count (above one) on a sample.

    Whole CSV records are compared, not physical lines, so quoted cells with line breaks
    do not skew the count. A wrong delimiter can make csv read an unclosed quote far ahead;
    the csv field size limit bounds that and the candidate is then dropped.
    """
    best, best_consistency = ",", 0.0
    for delimiter in CSV_DELIMITERS:
        try:
            records = _first_records(_csv_records(path, encoding, delimiter))
        except UnreadableFile:
            continue
        if not records:
            # Blank under this delimiter (only ";;;" lines): the file is empty, say so.
            return delimiter
        width, count = Counter(len(cells) for cells in records).most_common(1)[0]
        consistency = count / len(records)
        if width > 1 and consistency > best_consistency:
            best, best_consistency = delimiter, consistency
    return best


def _records(path, format_: str, encoding, delimiter) -> Iterator[tuple[int, list[str]]]:
    if format_ == "xlsx":
        return _xlsx_records(path)
    return _csv_records(path, encoding, delimiter)


def _csv_records(path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # The encoding was decided on a prefix; a stray bad byte further down (files pasted
    # together from two sources) should cost one cell a "�", not abort the import halfway.
    with open(path, encoding=encoding, errors="replace", newline="") as file:
        record_number = 0
        try:
            for record_number, cells in enumerate(csv.reader(file, delimiter=delimiter), 1):
                yield record_number, [cell.strip() for cell in cells]
        except csv.Error as error:
            raise UnreadableFile(
                _("Row %(row)d could not be read: %(error)s.")
                % {"row": record_number + 1, "error": error}
            ) from error


def _xlsx_records(path) -> Iterator[tuple[int, list[str]]]:
    # A file object, not the path: openpyxl refuses paths without an .xlsx extension, and
    # uploads are stored under names of our choosing.
    with open(path, "rb") as file:
        workbook = _open_workbook(file)
        try:
            sheet = workbook.worksheets[0]
            # The stored dimensions are often wrong in files written by other tools: too small
            # truncates rows, too large yields a million empty ones.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
            try:
                for row_number, values in enumerate(rows, 1):
                    yield row_number, _trim([_cell_text(value) for value in values])
            except (zipfile.BadZipFile, ParseError, EOFError) as error:
                raise UnreadableFile(_("The workbook is damaged and could not be read.")) from error
        finally:
            workbook.close()


def _open_workbook(file):
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as error:
        # openpyxl raises KeyError, BadZipFile, InvalidFileException... for zips that are
        # not workbooks (.ods, .docx, a zipped CSV): to the user they all mean the same.
        raise _NotAWorkbook(
            _(
                "This is a ZIP archive but not an Excel workbook. "
                "Save the file as .xlsx or CSV and try again."
            )
        ) from error
    if not workbook.worksheets:
        workbook.close()
        raise _NotAWorkbook(_("This workbook has no worksheet."))
    return workbook


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        value = _round_to_second(value)
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Excel keeps 15 significant digits; beyond that is binary noise (0.1 + 0.2).
        return f"{value:.15g}"
    return str(value)


def _round_to_second(value: dt.datetime) -> dt.datetime:
    # Excel stores times as fractions of a day, so 10:30 can come back as 10:29:59.999999.
    return (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _pad(cells: list[str], width: int) -> list[str]:
    return cells + [""] * (width - len(cells))


def _non_blank(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    return ((number, cells) for number, cells in records if any(cells))
