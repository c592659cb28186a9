"""Writing batches of contacts fast: COPY and one UPDATE … FROM VALUES on PostgreSQL.

The ORM's bulk_create/bulk_update spend most of an import's time preparing values field by
field (the phone field re-parses every number it is given). Values reaching this module are
already canonical, so on PostgreSQL they are streamed as they are; other databases (the
embedded SQLite) keep the ORM path.
"""

import csv
import io
import json
from operator import attrgetter

from django.db import connection
from django.utils import timezone
from psycopg2.extras import execute_values

from accounts.lookups import among
from contacts.models import ConsentRecord, Contact, address_hash, stored_mobile
from contacts.services.consent import channel_address, ledger_record
from contacts.typed_values import TYPED_COLUMNS

COLUMNS = [
    "account_id", "key", "email", "mobile", "salutation", "first_name", "last_name",
    "birth_date", "zip_code", "city", "country", "company", "fields", "number_values",
    "date_values", "email_status", "sms_status", "created_at", "updated_at",
]  # fmt: skip


def copy_csv(rows) -> io.StringIO:
    """Rows in COPY's CSV format, written by the csv module (in C: formatting the values in
    Python took as long as the COPY itself). None becomes an empty field, read back as NULL;
    COPY's FORCE_NOT_NULL (`force_not_null`) keeps an empty text of the other columns empty.
    Also used for the connectors' shop mirror (connectors/mirror.py)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    return buffer


def force_not_null(model, columns: list[str]) -> str:
    """COPY's FORCE_NOT_NULL list: the columns among `columns` the model declares not null."""
    nullable = {field.column for field in model._meta.concrete_fields if field.null}
    return ", ".join(column for column in columns if column not in nullable)


def _json(values: dict) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _iso_or_none(day) -> str | None:
    return day.isoformat() if day else None


def _array_writer(column: str):
    """The PostgreSQL array literal of a typed column (contacts.typed_values)."""
    prepare = Contact._meta.get_field(column).get_db_prep_value
    return lambda contact: prepare(getattr(contact, column), connection)


# How a column's value is written, where it differs from the attribute as it is.
_WRITERS = {
    "fields": lambda contact: _json(contact.fields),
    # The E.164 string the services set; str() would validate the number once more.
    "mobile": stored_mobile,
    "birth_date": lambda contact: _iso_or_none(contact.birth_date),
    **{column: _array_writer(column) for column in TYPED_COLUMNS},
}


def _column_value(contact: Contact, column: str):
    writer = _WRITERS.get(column)
    return writer(contact) if writer else getattr(contact, column)


def contacts_insert(contacts: list[Contact]) -> None:
    """Insert new contacts and set their primary keys."""
    if not contacts:
        return
    if connection.vendor != "postgresql":
        Contact.objects.bulk_create(contacts, batch_size=1000)
        return
    now = timezone.now()
    getters = [_WRITERS.get(column) or attrgetter(column) for column in COLUMNS]
    for contact in contacts:
        contact.created_at = contact.updated_at = now
    buffer = copy_csv([[get(contact) for get in getters] for contact in contacts])
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN "
            f"WITH (FORMAT csv, FORCE_NOT_NULL ({force_not_null(Contact, COLUMNS)}))",
            buffer,
        )
    ids = dict(
        Contact.objects.filter(
            among("key", [contact.key for contact in contacts]),
            account_id=contacts[0].account_id,
        ).values_list("key", "id")
    )
    for contact in contacts:
        contact.pk = ids[contact.key]
        contact._state.adding = False
        contact._state.db = "default"


def contacts_update(contacts: list[Contact], fields: list[str]) -> None:
    """Write `fields` of existing contacts in one statement."""
    if not contacts:
        return
    if connection.vendor != "postgresql":
        Contact.objects.bulk_update(contacts, fields, batch_size=1000)
        return
    table = Contact._meta.db_table
    casts = {
        "birth_date": "date",
        "fields": "jsonb",
        "number_values": "double precision[]",
        "date_values": "date[]",
        "updated_at": "timestamptz",
    }
    assignments = ", ".join(
        f"{name} = v.{name}::{casts[name]}" if name in casts else f"{name} = v.{name}"
        for name in fields
    )
    rows = [
        (contact.pk, *(_column_value(contact, name) for name in fields)) for contact in contacts
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"UPDATE {table} AS c SET {assignments} "  # noqa: S608 - names come from the model
            f"FROM (VALUES %s) AS v(id, {', '.join(fields)}) WHERE c.id = v.id",
            rows,
            page_size=1000,
        )


LEDGER_COLUMNS = [
    "account_id", "contact_id", "address_hash", "channel", "status", "source", "ip_address",
    "user_agent", "wording", "form", "version", "actor", "created_at",
]  # fmt: skip


def consent_records_insert(changes: list[tuple[Contact, str, str]], proof) -> None:
    """Append one ledger row per (contact, channel, status) change, with the same proof."""
    if not changes:
        return
    if connection.vendor != "postgresql":
        ConsentRecord.objects.bulk_create(
            [
                ledger_record(contact=contact, channel=channel, status=status, proof=proof)
                for contact, channel, status in changes
            ],
            batch_size=1000,
        )
        return
    now = timezone.now()
    shared = [
        proof.source, proof.ip_address, proof.user_agent[:400], proof.wording, proof.form,
        proof.version, proof.actor, now,
    ]  # fmt: skip
    buffer = copy_csv(
        [
            contact.account_id,
            contact.pk,
            address_hash(channel_address(contact, channel)),
            channel,
            status,
            *shared,
        ]
        for contact, channel, status in changes
    )
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {ConsentRecord._meta.db_table} ({', '.join(LEDGER_COLUMNS)}) "
            "FROM STDIN WITH (FORMAT csv, "
            f"FORCE_NOT_NULL ({force_not_null(ConsentRecord, LEDGER_COLUMNS)}))",
            buffer,
        )
