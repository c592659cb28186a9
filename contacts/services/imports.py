"""CSV/XLSX import: upload and sniff, configure the mapping, then run in a worker, streaming.

The file is read row by row and written 1,000 contacts at a time, so memory stays flat whatever
its size. A bad row is reported (row number, column, reason) in a downloadable CSV; good rows
are kept. On PostgreSQL the same import runs set-based, ~6× faster (import_fast.py), with the
same results; this module's row-by-row path serves SQLite.
"""

import csv
import io
import os
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import connection, reset_queries, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.errors import ServiceError
from accounts.models import Account
from contacts.cleaning import ContactCleaner
from contacts.exports import escape_formula
from contacts.imports.mapping import propose_mapping
from contacts.imports.reader import (
    FileInfo,
    UnreadableFile,
    count_data_rows,
    iter_rows,
    sniff,
)
from contacts.models import (
    BUILTIN_FIELDS,
    Channel,
    ConsentRecord,
    ConsentStatus,
    ContactField,
    ContactImport,
    ContactList,
    DuplicatePolicy,
)
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert

CHUNK_ROWS = 1000
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class ImportError_(ServiceError):  # noqa: N801 - "ImportError" is a builtin
    pass


@transaction.atomic
def import_create(*, account: Account, uploaded_file, actor=None) -> ContactImport:
    """Store the upload and detect its format, encoding, delimiter, header and a mapping."""
    if uploaded_file.size > MAX_UPLOAD_BYTES:
        raise ImportError_({"file": _("The file is larger than 512 MB.")})
    contact_import = ContactImport(
        account=account,
        created_by=actor,
        original_name=os.path.basename(uploaded_file.name)[:255],
    )
    contact_import.file.save(uploaded_file.name, uploaded_file, save=False)
    try:
        info = sniff(contact_import.file.path, filename=uploaded_file.name)
    except UnreadableFile as error:
        contact_import.file.delete(save=False)
        raise ImportError_({"file": str(error)}) from error
    custom_fields = dict(ContactField.objects.filter(account=account).values_list("key", "label"))
    contact_import.format = info.format
    contact_import.encoding = info.encoding or ""
    contact_import.delimiter = info.delimiter or ""
    contact_import.has_header = info.has_header
    contact_import.header = info.header
    contact_import.sample_rows = info.sample_rows
    contact_import.mapping = propose_mapping(info.header, custom_fields)
    contact_import.save()
    return contact_import


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


@transaction.atomic
def import_configure(
    *,
    contact_import: ContactImport,
    mapping: list[str | None],
    duplicate_policy: str = DuplicatePolicy.UPDATE,
    target_list: ContactList | None = None,
    email_status: str = ConsentStatus.NONE,
    sms_status: str = ConsentStatus.NONE,
    consent_wording: str = "",
) -> ContactImport:
    if contact_import.status != ContactImport.Status.UPLOADED:
        raise ImportError_({"status": _("This import has already been started.")})
    account = contact_import.account
    errors = {}
    known = set(BUILTIN_FIELDS) | set(
        ContactField.objects.filter(account=account).values_list("key", flat=True)
    )
    if len(mapping) != len(contact_import.header):
        errors["mapping"] = _("Give one field (or null) for each of the %(n)d columns.") % {
            "n": len(contact_import.header)
        }
    else:
        chosen = [key for key in mapping if key]
        unknown = sorted(set(chosen) - known)
        if unknown:
            errors["mapping"] = _("Unknown fields: %(keys)s") % {"keys": ", ".join(unknown)}
        elif len(chosen) != len(set(chosen)):
            errors["mapping"] = _("Each field can be mapped to one column only.")
        elif account.contact_key not in chosen:
            errors["mapping"] = _("Map a column to “%(key)s”: it identifies contacts.") % {
                "key": account.contact_key
            }
    if duplicate_policy not in DuplicatePolicy.values:
        errors["duplicate_policy"] = _("Unknown policy.")
    for name, value in (("email_status", email_status), ("sms_status", sms_status)):
        if value not in ConsentStatus.values:
            errors[name] = _("Unknown consent status.")
    if target_list is not None and target_list.account_id != account.pk:
        errors["target_list"] = _("No such list.")
    consent_given = {email_status, sms_status} & {ConsentStatus.SUBSCRIBED, ConsentStatus.PENDING}
    if consent_given and not consent_wording.strip():
        errors["consent_wording"] = _(
            "Say how these people gave their consent (form, wording, date): it is your proof."
        )
    if errors:
        raise ImportError_(errors)
    contact_import.mapping = list(mapping)
    contact_import.duplicate_policy = duplicate_policy
    contact_import.target_list = target_list
    contact_import.email_status = email_status
    contact_import.sms_status = sms_status
    contact_import.consent_wording = consent_wording
    contact_import.save()
    return contact_import


@transaction.atomic
def import_start(*, contact_import: ContactImport) -> ContactImport:
    from contacts.tasks import run_import_task

    started = ContactImport.objects.filter(
        pk=contact_import.pk, status=ContactImport.Status.UPLOADED
    ).update(status=ContactImport.Status.QUEUED)
    if not started:
        raise ImportError_({"status": _("This import has already been started.")})
    transaction.on_commit(lambda: run_import_task.delay(contact_import.pk))
    contact_import.refresh_from_db()
    return contact_import


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

    def attach(self, contact_import: ContactImport) -> None:
        self._file.flush()
        self._file.seek(0)
        if self.count:
            name = f"import-{contact_import.pk}-errors.csv"
            contact_import.error_report.save(name, File(self._file), save=False)
        self._file.close()
        Path(self._file.name).unlink(missing_ok=True)


def import_run(*, import_id: int) -> ContactImport | None:
    """The worker's job. Claims the import, so a redelivered task does not run it twice."""
    claimed = ContactImport.objects.filter(pk=import_id, status=ContactImport.Status.QUEUED).update(
        status=ContactImport.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    contact_import = ContactImport.objects.select_related("account", "target_list").get(
        pk=import_id
    )
    try:
        # The report is read by the account's people: write its messages in their language.
        with translation.override(contact_import.account.language):
            _run(contact_import)
    except Exception as error:
        ContactImport.objects.filter(pk=import_id).update(
            status=ContactImport.Status.FAILED,
            failure_reason=str(error)[:2000],
            finished_at=timezone.now(),
        )
        raise
    return ContactImport.objects.get(pk=import_id)


# Vendors whose imports take the set-based path of contacts/services/import_fast.py; the others
# (the embedded SQLite) clean and write every row in Python. Tests empty it to compare both paths.
FAST_IMPORT_VENDORS = frozenset({"postgresql"})


def _run(contact_import: ContactImport) -> None:
    if connection.vendor in FAST_IMPORT_VENDORS:
        from contacts.services.import_fast import import_rows_fast  # it builds on this module

        import_rows_fast(contact_import)
    else:
        _run_python(contact_import)


def import_proof(contact_import: ContactImport) -> ConsentProof:
    return ConsentProof(
        source=ConsentRecord.Source.IMPORT,
        wording=contact_import.consent_wording,
        form=f"import #{contact_import.pk}: {contact_import.original_name}",
        actor=str(contact_import.created_by or ""),
    )


def import_default_statuses(contact_import: ContactImport) -> dict[str, str]:
    return {
        channel: status
        for channel, status in (
            (Channel.EMAIL, contact_import.email_status),
            (Channel.SMS, contact_import.sms_status),
        )
        if status != ConsentStatus.NONE
    }


def row_refusal(cells: list[str], header: list[str]) -> str | None:
    """Why a row is refused before cleaning, or None."""
    if len(cells) > len(header) and any(cells[len(header) :]):
        # Extra cells usually mean a shifted row: writing it could put values in wrong fields.
        return _("this row has %(got)d cells, the header has %(expected)d") % {
            "got": len(cells),
            "expected": len(header),
        }
    return None


def report_row_errors(
    report: ErrorReport, row_number: int, errors: dict, cells: list[str], column_of: dict
) -> None:
    for field_name, reason in errors.items():
        column = column_of.get(field_name.removeprefix("fields."), field_name)
        report.add(row_number, column, reason, cells)


def import_finish(contact_import: ContactImport, processed: int, report: ErrorReport) -> None:
    report.attach(contact_import)
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ContactImport.Status.DONE,
        processed_rows=processed,
        error_count=report.count,
        error_report=contact_import.error_report.name or "",
        finished_at=timezone.now(),
    )


def _run_python(contact_import: ContactImport) -> None:
    account = contact_import.account
    info = import_file_info(contact_import)
    path = contact_import.file.path
    total = count_data_rows(path, info)
    ContactImport.objects.filter(pk=contact_import.pk).update(total_rows=total)
    header, mapping = contact_import.header, contact_import.mapping
    column_of = {key: header[index] for index, key in enumerate(mapping) if key}
    cleaner = ContactCleaner(account)
    proof = import_proof(contact_import)
    defaults = import_default_statuses(contact_import)
    counts = {"created": 0, "updated": 0, "skipped": 0}
    report = ErrorReport(header)
    processed = 0
    # (row number, cells, reason the row is refused before cleaning, or None)
    chunk: list[tuple[int, list[str], str | None]] = []

    def flush():
        nonlocal processed
        writable = [
            (cells, index) for index, (_n, cells, refusal) in enumerate(chunk) if not refusal
        ]
        outcomes = contacts_bulk_upsert(
            account=account,
            rows=[row_data(cells, mapping) for cells, _index in writable],
            policy=contact_import.duplicate_policy,
            proof=proof,
            default_statuses=defaults,
            target_list=contact_import.target_list,
            blank_clears=False,
            cleaner=cleaner,
        )
        outcome_at = {
            index: outcome for (_cells, index), outcome in zip(writable, outcomes, strict=True)
        }
        for index, (row_number, cells, refusal) in enumerate(chunk):
            if refusal:
                report.add(row_number, "", refusal, cells)
                continue
            outcome = outcome_at[index]
            if outcome.status == "error":
                report_row_errors(report, row_number, outcome.errors, cells, column_of)
            else:
                counts[outcome.status] += 1
        processed += len(chunk)
        chunk.clear()
        # With DEBUG on (the embedded default) Django keeps every query's SQL: a long import
        # would grow by megabytes per chunk.
        reset_queries()
        ContactImport.objects.filter(pk=contact_import.pk).update(
            processed_rows=processed,
            created_count=counts["created"],
            updated_count=counts["updated"],
            skipped_count=counts["skipped"],
            error_count=report.count,
        )

    for row_number, cells in iter_rows(path, info):
        chunk.append((row_number, cells, row_refusal(cells, header)))
        if len(chunk) >= CHUNK_ROWS:
            flush()
    if chunk:
        flush()
    import_finish(contact_import, processed, report)


def import_error_report(contact_import: ContactImport) -> io.BufferedReader | None:
    if not contact_import.error_report:
        return None
    return contact_import.error_report.open("rb")
