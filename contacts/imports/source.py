"""The one source of an import's rows: the stored upload, read through its mapping.

Both engines (python_engine.py, postgres_engine.py) read the file through `ImportSource`, so they
see the same rows, row numbers, refusals and field values; a shop connector can feed the same
engines with another source that yields the same (row number, cells) rows.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from contacts.imports.reader import FileInfo, count_data_rows, iter_rows
from contacts.models import BUILTIN_FIELDS, ContactImport

# Rows written together by the Python path (one contacts_bulk_upsert call); the PostgreSQL path
# keeps the same chunks so that both merge repeated keys alike.
CHUNK_ROWS = 1000


@dataclass(frozen=True)
class SourceRow:
    row_number: int
    cells: list[str]
    # Why the row is refused before cleaning, or None.
    refusal: str | None


def import_file_info(contact_import: ContactImport) -> FileInfo:
    return FileInfo(
        format=contact_import.format,
        encoding=contact_import.encoding or None,
        delimiter=contact_import.delimiter or None,
        has_header=contact_import.has_header,
        header=contact_import.header,
        sample_rows=contact_import.sample_rows,
        column_count=len(contact_import.header),
    )


def row_data(cells: list[str], mapping: list[str | None]) -> dict:
    data: dict = {}
    custom: dict = {}
    for value, key in zip(cells, mapping, strict=False):
        if not key:
            continue
        if key in BUILTIN_FIELDS:
            data[key] = value
        else:
            custom[key] = value
    if custom:
        data["fields"] = custom
    return data


def row_refusal(cells: list[str], header: list[str]) -> str | None:
    """Why a row is refused before cleaning, or None."""
    if len(cells) > len(header) and any(cells[len(header) :]):
        # Extra cells usually mean a shifted row: writing it could put values in wrong fields.
        return _("this row has %(got)d cells, the header has %(expected)d") % {
            "got": len(cells),
            "expected": len(header),
        }
    return None


class ImportSource:
    """The rows of a stored upload, with what the mapping makes of them."""

    def __init__(self, contact_import: ContactImport):
        self.path = contact_import.file.path
        self.info = import_file_info(contact_import)
        self.header: list[str] = contact_import.header
        self.mapping: list[str | None] = contact_import.mapping
        self.width = len(self.header)
        # The file's column of each mapped field, for error reports.
        self.column_of = {key: self.header[i] for i, key in enumerate(self.mapping) if key}

    def count(self) -> int:
        return count_data_rows(self.path, self.info)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of every data row, streamed."""
        return iter_rows(self.path, self.info)

    def batches(self, size: int = CHUNK_ROWS) -> Iterator[list[SourceRow]]:
        """The rows, `size` at a time, each with its refusal (or None)."""
        batch: list[SourceRow] = []
        for row_number, cells in self.rows():
            batch.append(SourceRow(row_number, cells, self.refusal(cells)))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def refusal(self, cells: list[str]) -> str | None:
        return row_refusal(cells, self.header)

    def data(self, cells: list[str]) -> dict:
        """The contact data of a row (built-in fields, and custom ones under "fields")."""
        return row_data(cells, self.mapping)
