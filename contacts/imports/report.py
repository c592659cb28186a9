"""What an import leaves behind: the report of its rejected rows, and its final state.

The stored report is the technical CSV, for machines: UTF-8, `,`, one line per error (row number,
file column, reason, then the row's cells), the lines of one row together. People download it as
"Excel (France)": one line per rejected row listing its errors, so that the file can be fixed and
imported again (see rejects_excel_fr)."""

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.domain_events import send_on_commit
from contacts.exports import escape_formula, excel_fr_stream
from contacts.models import ContactImport
from contacts.signals import import_finished

TECHNICAL_HEADER = ["row", "column", "error"]


class ErrorReport:
    """Rejected rows, streamed to a temporary CSV, attached to the import at the end.

    `rows` counts rejected rows (what the import report shows), `errors` the refused values:
    one row may have several."""

    def __init__(self, header: list[str]):
        self.rows = 0
        self.errors = 0
        self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in attach()
            "w+", encoding="utf-8", newline="", suffix=".csv", delete=False
        )
        self._writer = csv.writer(self._file)
        self._writer.writerow([*TECHNICAL_HEADER, *header])

    def add(self, row_number: int, column: str, reason: str, cells: list[str]):
        """A row refused as a whole (a ragged row, say)."""
        self.add_row(row_number, [(column, reason)], cells)

    def add_errors(self, row_number: int, errors: dict, cells: list[str], column_of: dict) -> None:
        """One line per refused field, naming the file's column it came from."""
        self.add_row(
            row_number,
            [
                (column_of.get(field_name.removeprefix("fields."), field_name), reason)
                for field_name, reason in errors.items()
            ],
            cells,
        )

    def add_row(self, row_number: int, errors: list[tuple[str, str]], cells: list[str]) -> None:
        self.rows += 1
        escaped = [escape_formula(cell) for cell in cells]
        for column, reason in errors:
            self.errors += 1
            self._writer.writerow([row_number, column, reason, *escaped])

    @property
    def count(self) -> int:
        return self.rows

    def attach(self, contact_import: ContactImport) -> None:
        self._file.flush()
        self._file.seek(0)
        if self.rows:
            name = f"import-{contact_import.pk}-errors.csv"
            contact_import.error_report.save(name, File(self._file), save=False)
        self._file.close()
        Path(self._file.name).unlink(missing_ok=True)


@dataclass(frozen=True)
class RejectedRow:
    number: int
    errors: list[tuple[str, str]]  # (file column, reason); the column is "" for a whole row
    cells: list[str]

    def error_lines(self) -> list[str]:
        """Each error with the file column it is about, in the active language's typography."""
        return [
            pgettext("column: reason", "%(column)s: %(reason)s")
            % {"column": column, "reason": reason}
            if column
            else reason
            for column, reason in self.errors
        ]

    def errors_text(self) -> str:
        return " ; ".join(self.error_lines())


def _stored_lines(contact_import: ContactImport) -> tuple[list[str], Iterator[list[str]]]:
    """The stored report's header (the file's own columns) and its lines."""
    with contact_import.error_report.open("rb") as handle:
        text = handle.read().decode("utf-8")
    # Reports written before the technical format were `;`-separated, with a BOM.
    legacy = text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";" if legacy else ",")
    header = next(reader, [])
    return header[3:], reader


def rejected_rows(contact_import: ContactImport, limit: int | None = None) -> list[RejectedRow]:
    """The rejected rows, each with all its errors, in file order."""
    if not contact_import.error_report:
        return []
    _header, lines = _stored_lines(contact_import)
    rows = []
    for number, group in groupby(lines, key=lambda line: line[0]):
        group = list(group)
        rows.append(
            RejectedRow(
                number=int(number),
                errors=[(line[1], line[2]) for line in group],
                cells=group[0][3:],
            )
        )
        if limit is not None and len(rows) >= limit:
            break
    return rows


def rejects_excel_fr(contact_import: ContactImport) -> Iterator[str]:
    """The rejected rows for French Excel: UTF-8 with BOM, `;`, one line per rejected row."""
    header, _lines = _stored_lines(contact_import)
    rows = (
        [str(row.number), row.errors_text(), *row.cells] for row in rejected_rows(contact_import)
    )
    # Cells were escaped when the report was written; the errors name the user's own values.
    return excel_fr_stream(
        [[_("Row"), _("Errors"), *header]],
        ([number, escape_formula(errors), *cells] for number, errors, *cells in rows),
    )


def import_finish(
    contact_import: ContactImport, processed: int, report: ErrorReport, counts: dict[str, int]
) -> None:
    """Mark the import done with its final counts, and announce it once that is committed."""
    report.attach(contact_import)
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ContactImport.Status.DONE,
        processed_rows=processed,
        created_count=counts["created"],
        updated_count=counts["updated"],
        skipped_count=counts["skipped"],
        error_count=report.rows,
        error_report=contact_import.error_report.name or "",
        finished_at=timezone.now(),
    )
    send_on_commit(
        import_finished,
        sender=ContactImport,
        account_id=contact_import.account_id,
        import_id=contact_import.pk,
        created=counts["created"],
        updated=counts["updated"],
        skipped=counts["skipped"],
        errors=report.rows,
    )
