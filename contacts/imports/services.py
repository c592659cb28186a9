"""CSV/XLSX import: upload and sniff, configure the mapping, then run in a worker.

The worker's run reads the stored upload (source.py) and writes it with one of two engines with
the same results: set-based in PostgreSQL (postgres_engine.py, ~6× faster), row by row in Python
elsewhere (python_engine.py, SQLite's). A bad row is reported (row number, column, reason) in a
downloadable CSV; good rows are kept.

The Celery task (contacts.tasks) calls import_run; this module does not import it back (that was
a file cycle): the task registers itself as the import runner (`import_runner_register`, called
from ContactsConfig.ready), and import_start hands the claimed import to it on commit.
"""

import io
import os
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.models import Account
from contacts.exports import EXCEL_FR
from contacts.imports.mapping import propose_mapping
from contacts.imports.postgres_engine import import_rows_postgres
from contacts.imports.python_engine import import_rows_python
from contacts.imports.reader import UnreadableFile, sniff
from contacts.imports.report import rejected_rows, rejects_excel_fr
from contacts.models import (
    BUILTIN_FIELDS,
    ConsentStatus,
    ContactField,
    ContactImport,
    ContactList,
    DuplicatePolicy,
)

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class ImportRefused(ServiceError):
    """The upload or the import's options are refused; `fields` says which and why."""


class ImportAlreadyStarted(ImportRefused, ConflictError):
    """The import was started already (HTTP 409: its state, not the request, is at fault)."""


# Set by ContactsConfig.ready() to the Celery task's enqueue (see the module's docstring).
_enqueue_run: Callable[[int], object] | None = None


def import_runner_register(enqueue: Callable[[int], object]) -> None:
    """Make `enqueue(import_id)` the way started imports reach a worker."""
    global _enqueue_run  # noqa: PLW0603 - one runner per process, set once at start-up
    _enqueue_run = enqueue


@transaction.atomic
def import_create(*, account: Account, uploaded_file, actor=None) -> ContactImport:
    """Store the upload and detect its format, encoding, delimiter, header and a mapping."""
    if uploaded_file.size > MAX_UPLOAD_BYTES:
        raise ImportRefused({"file": _("The file is larger than 512 MB.")})
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
        raise ImportRefused({"file": str(error)}) from error
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
        raise ImportAlreadyStarted({"status": _("This import has already been started.")})
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
        raise ImportRefused(errors)
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
    """Claim the uploaded import (a conditional update) and hand it to a worker on commit."""
    if _enqueue_run is None:
        raise RuntimeError("No import runner registered (contacts.apps.ContactsConfig.ready).")
    enqueue = _enqueue_run
    started = ContactImport.objects.filter(
        pk=contact_import.pk, status=ContactImport.Status.UPLOADED
    ).update(status=ContactImport.Status.QUEUED)
    if not started:
        raise ImportAlreadyStarted({"status": _("This import has already been started.")})
    transaction.on_commit(lambda: enqueue(contact_import.pk))
    contact_import.refresh_from_db()
    return contact_import


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


# Vendors whose imports take the set-based path of postgres_engine.py; the others (the embedded
# SQLite) clean and write every row in Python. Tests empty it to compare both paths.
FAST_IMPORT_VENDORS = frozenset({"postgresql"})


def _run(contact_import: ContactImport) -> None:
    if connection.vendor in FAST_IMPORT_VENDORS:
        import_rows_postgres(contact_import)
    else:
        import_rows_python(contact_import)


def import_error_report(contact_import: ContactImport) -> io.BufferedReader | None:
    """The stored technical report (UTF-8, `,`, one line per error)."""
    if not contact_import.error_report:
        return None
    return contact_import.error_report.open("rb")


def import_rejected_rows(contact_import: ContactImport, limit: int | None = None):
    if contact_import.status != ContactImport.Status.DONE:
        return []
    return rejected_rows(contact_import, limit=limit)


def import_rejects_file(contact_import: ContactImport, file_format: str):
    """The rejected rows to download, as (a binary file, its name), or None when no row was
    rejected: the technical CSV as stored, or for French Excel (one line per rejected row, in
    the account's language)."""
    if not contact_import.error_report:
        return None
    if file_format == EXCEL_FR:
        with translation.override(contact_import.account.language):
            content = "".join(rejects_excel_fr(contact_import)).encode()
        return io.BytesIO(content), f"import-{contact_import.pk}-rejected-excel.csv"
    return contact_import.error_report.open("rb"), f"import-{contact_import.pk}-errors.csv"
