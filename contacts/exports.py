"""CSV and XLSX exports of contacts, streamed, with spreadsheet formulas neutralised."""

import csv
import tempfile
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from openpyxl import Workbook

from contacts.models import BUILTIN_FIELDS, Contact

# A cell starting with one of these is run as a formula by Excel/LibreOffice (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
STATUS_COLUMNS = ("email_status", "sms_status")
DEFAULT_COLUMNS = (*BUILTIN_FIELDS, *STATUS_COLUMNS)


def escape_formula(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def _cell(contact: Contact, column: str):
    if column.startswith("fields."):
        value = contact.fields.get(column.removeprefix("fields."))
        if isinstance(value, list):
            return ";".join(map(str, value))
        if isinstance(value, bool):
            return "1" if value else "0"
        return value
    value = getattr(contact, column)
    if column == "birth_date" and value:
        return value.isoformat()
    return value


def export_rows(contacts: QuerySet, columns: list[str]) -> Iterator[list[str]]:
    yield list(columns)
    for contact in contacts.order_by("pk").iterator(chunk_size=2000):
        yield [escape_formula(_cell(contact, column)) for column in columns]


def csv_stream(rows: Iterable[list[str]]) -> Iterator[str]:
    """UTF-8 with BOM and ';' so that French Excel opens it as it is."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def xlsx_file(rows: Iterable[list[str]]):
    """An XLSX in a temporary file: write-only mode keeps memory flat; the caller streams it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for row in rows:
        sheet.append(row)
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - returned to the caller
    workbook.save(handle)
    handle.seek(0)
    return handle
