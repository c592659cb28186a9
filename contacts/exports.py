"""Contact exports, streamed, with spreadsheet formulas neutralised.

Three formats: the technical CSV for machines (field keys as headers, ISO dates, status codes),
XLSX, and "Excel (France)": what French Excel opens as it is (UTF-8 with BOM, `;`, the fields'
labels as headers, dates dd/mm/yyyy, decimal commas, readable consent and salutation values)."""

import csv
import tempfile
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook

from contacts.forms import BUILTIN_LABELS
from contacts.models import (
    BUILTIN_FIELDS,
    ConsentStatus,
    Contact,
    ContactField,
    FieldType,
    Salutation,
)

# A cell starting with one of these is run as a formula by Excel/LibreOffice (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
STATUS_COLUMNS = ("email_status", "sms_status")
DEFAULT_COLUMNS = (*BUILTIN_FIELDS, *STATUS_COLUMNS)

CSV = "csv"
EXCEL_FR = "excel_fr"
XLSX = "xlsx"
EXPORT_FORMATS = (CSV, EXCEL_FR, XLSX)


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


def column_labels(account) -> dict[str, str]:
    """What people call each export column (built-in fields, consents, custom fields)."""
    labels = {name: str(label) for name, label in BUILTIN_LABELS.items()}
    labels.update({"email_status": _("Email consent"), "sms_status": _("SMS consent")})
    labels.update(
        {
            f"fields.{field.key}": field.display_label
            for field in ContactField.objects.filter(account=account)
        }
    )
    return labels


class ReadableCells:
    """Contact values as a French spreadsheet shows them, in the active language."""

    def __init__(self, account):
        self.tz = zoneinfo.ZoneInfo(account.timezone)
        self.types = {
            field.key: field.type for field in ContactField.objects.filter(account=account)
        }
        self.consent = {value: str(label) for value, label in ConsentStatus.choices}
        self.salutation = {value: str(label) for value, label in Salutation.choices}
        self.yes, self.no = _("Yes"), _("No")

    def _date(self, value) -> str:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(self.tz)
            return value.strftime("%d/%m/%Y %H:%M")
        return value.strftime("%d/%m/%Y")

    def _number(self, value) -> str:
        text = format(Decimal(str(value)), "f") if not isinstance(value, int) else str(value)
        return text.replace(".", ",")

    def cell(self, contact: Contact, column: str) -> str:
        if column in STATUS_COLUMNS:
            status = getattr(contact, column)
            return self.consent.get(status, status)
        if column == "salutation":
            return self.salutation.get(contact.salutation, contact.salutation)
        if column == "birth_date":
            return self._date(contact.birth_date) if contact.birth_date else ""
        if not column.startswith("fields."):
            value = getattr(contact, column)
            return "" if value is None else str(value)
        key = column.removeprefix("fields.")
        value = contact.fields.get(key)
        if value is None or value == "":
            return ""
        kind = self.types.get(key)
        if isinstance(value, bool):
            return self.yes if value else self.no
        if isinstance(value, list):
            return ", ".join(map(str, value))
        if kind in {FieldType.DATE, FieldType.DATETIME}:
            return self._date(value)
        if kind in {FieldType.NUMBER, FieldType.DECIMAL} and isinstance(value, (int, float, str)):
            try:
                return self._number(value)
            except ArithmeticError:
                return str(value)
        return str(value)


def export_rows_excel_fr(account, contacts: QuerySet, columns: list[str]) -> Iterator[list[str]]:
    """Labels and words are read now, in the active language: the rows stream after the view
    has returned (and its language override has ended)."""
    labels = column_labels(account)
    header = [labels.get(column, column) for column in columns]
    cells = ReadableCells(account)

    def rows():
        yield header
        for contact in contacts.order_by("pk").iterator(chunk_size=2000):
            yield [escape_formula(cells.cell(contact, column)) for column in columns]

    return rows()


def csv_stream(rows: Iterable[list[str]]) -> Iterator[str]:
    """The technical CSV (UTF-8 with BOM and ';', as it always was)."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def excel_fr_stream(*row_groups: Iterable[list[str]]) -> Iterator[str]:
    """CSV that French Excel opens as it is: UTF-8 with BOM (or accents are mangled), `;` (the
    list separator of a French Windows), CRLF line ends."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff"
    for rows in row_groups:
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
