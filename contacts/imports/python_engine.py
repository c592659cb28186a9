"""The contact import in Python, row by row: SQLite's path (PostgreSQL's is postgres_engine.py).

Rows come from the stored upload (ImportSource) and are written 1,000 at a time by
contacts_bulk_upsert, so memory stays flat whatever the file's size; a bad row is reported
(row number, column, reason) and the good ones are kept.
"""

from django.db import reset_queries

from contacts.cleaning import ContactCleaner
from contacts.imports.options import import_default_statuses, import_proof
from contacts.imports.report import ErrorReport, import_finish
from contacts.imports.source import CHUNK_ROWS, ImportSource
from contacts.models import ContactImport
from contacts.services.contacts import contacts_bulk_upsert


def import_rows_python(contact_import: ContactImport) -> None:
    account = contact_import.account
    source = ImportSource(contact_import)
    ContactImport.objects.filter(pk=contact_import.pk).update(total_rows=source.count())
    cleaner = ContactCleaner(account)
    proof = import_proof(contact_import)
    defaults = import_default_statuses(contact_import)
    counts = {"created": 0, "updated": 0, "skipped": 0}
    report = ErrorReport(source.header)
    processed = 0
    for batch in source.batches(CHUNK_ROWS):
        writable = [row for row in batch if not row.refusal]
        outcomes = contacts_bulk_upsert(
            account=account,
            rows=[source.data(row.cells) for row in writable],
            policy=contact_import.duplicate_policy,
            proof=proof,
            default_statuses=defaults,
            target_list=contact_import.target_list,
            blank_clears=False,
            cleaner=cleaner,
            # Imports announce themselves once, import_finished, whatever their engine.
            send_events=False,
        )
        outcome_of = {id(row): outcome for row, outcome in zip(writable, outcomes, strict=True)}
        for row in batch:
            if row.refusal:
                report.add(row.row_number, "", row.refusal, row.cells)
                continue
            outcome = outcome_of[id(row)]
            if outcome.status == "error":
                report.add_errors(row.row_number, outcome.errors, row.cells, source.column_of)
            else:
                counts[outcome.status] += 1
        processed += len(batch)
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
    import_finish(contact_import, processed, report, counts)
