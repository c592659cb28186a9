"""What an import leaves behind: the report of its rejected rows, and its final state."""

import csv
import tempfile
from pathlib import Path

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.domain_events import send_on_commit
from contacts.exports import escape_formula
from contacts.models import ContactImport
from contacts.signals import import_finished


class ErrorReport:
    """Rejected rows, streamed to a temporary CSV, attached to the import at the end."""

    def __init__(self, header: list[str]):
        self.count = 0
        self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in attach()
            "w+", encoding="utf-8-sig", newline="", suffix=".csv", delete=False
        )
        self._writer = csv.writer(self._file, delimiter=";")
        self._writer.writerow([_("row"), _("column"), _("error"), *header])

    def add(self, row_number: int, column: str, reason: str, cells: list[str]):
        self.count += 1
        self._writer.writerow([row_number, column, reason, *map(escape_formula, cells)])

    def add_errors(self, row_number: int, errors: dict, cells: list[str], column_of: dict) -> None:
        """One line per refused field, naming the file's column it came from."""
        for field_name, reason in errors.items():
            column = column_of.get(field_name.removeprefix("fields."), field_name)
            self.add(row_number, column, reason, cells)

    def attach(self, contact_import: ContactImport) -> None:
        self._file.flush()
        self._file.seek(0)
        if self.count:
            name = f"import-{contact_import.pk}-errors.csv"
            contact_import.error_report.save(name, File(self._file), save=False)
        self._file.close()
        Path(self._file.name).unlink(missing_ok=True)


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
        error_count=report.count,
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
        errors=report.count,
    )
