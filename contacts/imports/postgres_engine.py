"""The contact import on PostgreSQL: raw cells staged with COPY, cleaned and written in SQL.

The Python path (python_engine.py) spends ~250 µs per row building model instances,
validating phone numbers twice and formatting COPY text (profile in the issue note). Here:

1. Stage: the file is read by the same reader (same decoding, row numbers, blank lines) and its
   cells are streamed with COPY into a temporary table, with no per-cell Python work. An
   unreadable file fails here, before anything is written, as the Python path's row count does.
2. Clean, batch by batch: one INSERT … SELECT turns the cells SQL can settle into canonical
   values (contacts/imports/sql_cleaning.py). Rows holding any cell SQL is not sure about go
   through ContactCleaner in Python, which also writes every error message: results and error
   reports are the Python path's own by construction.
3. Write, set-based: rows are merged and written with the Python path's semantics, including its
   1,000-row chunks. Within a chunk, rows with the same key are merged in order and written once;
   a key seen again in a later chunk is then an existing contact (so "skip existing" skips it).
   Contacts never interact, so every key's first chunk is applied for all keys at once, then
   every key's second chunk ("round" 2: rare, only keys repeated across chunks), and so on.
   The consent ledger, suppressions and list memberships follow with INSERT … SELECT.

Python memory stays flat: it only holds one COPY buffer and one fetch of fallback rows at a
time; the staged file lives in PostgreSQL's temporary table.
"""

# Statements are assembled from the model's table and column names, temporary table names and
# validated field keys; every value travels as a query parameter.
# ruff: noqa: S608

import csv
import io
import json

from django.db import IntegrityError, connection, reset_queries, transaction
from django.utils.translation import gettext as _

from contacts.cleaning import ContactCleaner
from contacts.imports.options import import_default_statuses, import_proof
from contacts.imports.report import ErrorReport, import_finish
from contacts.imports.source import CHUNK_ROWS, ImportSource
from contacts.imports.sql_cleaning import SqlExpr, builtin_cell, custom_cell
from contacts.imports.staging import csv_batches, in_thread
from contacts.models import (
    BUILTIN_FIELDS,
    Channel,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactField,
    ContactImport,
    ListMembership,
    Suppression,
)
from contacts.typed_values import TYPED_COLUMNS, TypedLayout, layout_for_writing

# Rows cleaned and written per transaction (and per progress update); a multiple of CHUNK_ROWS
# so that batches never cut a chunk.
BATCH_ROWS = 100 * CHUNK_ROWS
COPY_ROWS = 5_000
FALLBACK_FETCH_ROWS = 2_000

RAW, CLEAN, KEYS, UNITS = "import_raw", "import_clean", "import_keys", "import_units"
BUILTINS = list(BUILTIN_FIELDS)
CONTACT, LEDGER, SUPPRESSION, MEMBERSHIP = (
    Contact._meta.db_table,
    ConsentRecord._meta.db_table,
    Suppression._meta.db_table,
    ListMembership._meta.db_table,
)
WANTS_CONSENT = (ConsentStatus.SUBSCRIBED, ConsentStatus.SOFT_OPTIN, ConsentStatus.PENDING)


def import_rows_postgres(contact_import: ContactImport) -> None:
    _FastImport(contact_import).run()


class _FastImport:
    def __init__(self, contact_import: ContactImport):
        self.contact_import = contact_import
        self.account = account = contact_import.account
        self.source = source = ImportSource(contact_import)
        self.header, self.mapping, self.width = source.header, source.mapping, source.width
        custom_fields = list(ContactField.objects.filter(account=account))
        self.cleaner = ContactCleaner(account, custom_fields)
        self.definitions = {definition.key: definition for definition in custom_fields}
        self.proof = import_proof(contact_import)
        self.policy = contact_import.duplicate_policy
        self.defaults = import_default_statuses(contact_import)
        self.report = ErrorReport(self.header)
        self.counts = {"created": 0, "updated": 0, "skipped": 0}
        # Slots of the typed values, read again in each write transaction (layout_for_writing).
        self.layout: TypedLayout | None = None
        self.cells = [f"c{index}" for index in range(self.width)]

    def run(self) -> None:
        with connection.cursor() as cursor:
            self.cursor = cursor
            self._create_tables()
            try:
                total = self._stage()
                ContactImport.objects.filter(pk=self.contact_import.pk).update(total_rows=total)
                clean_sql, clean_params = self._clean_statement()
                for start in range(0, total, BATCH_ROWS):
                    end = min(start + BATCH_ROWS, total)
                    with transaction.atomic():
                        # Compiling these long expressions costs ~0.1 s per statement and
                        # saves less: each runs once per batch.
                        cursor.execute("SET LOCAL jit = off")
                        self._clean_batch(clean_sql, clean_params, start, end)
                        self._write_batch()
                    self._progress(end)
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {RAW}, {CLEAN}, {KEYS}, {UNITS}")
        import_finish(self.contact_import, total, self.report, self.counts)

    def _create_tables(self) -> None:
        cells = ", ".join(f"{cell} text" for cell in self.cells)
        builtins = ", ".join(
            f"{name} {'date' if name == 'birth_date' else 'text'}" for name in BUILTINS
        )
        execute = self.cursor.execute
        execute(f"DROP TABLE IF EXISTS {RAW}, {CLEAN}, {KEYS}, {UNITS}")
        # `orig`: the JSON of the cells of a row the columns cannot hold as they are (another
        # width than the header's, or NUL characters, which PostgreSQL text refuses).
        execute(f"CREATE TEMP TABLE {RAW} (ord integer, row_no integer, {cells}, orig text)")
        execute(f"CREATE TEMP TABLE {CLEAN} (ord integer, key text, {builtins}, fields jsonb)")
        execute(f"CREATE TEMP TABLE {KEYS} (key text)")
        execute(
            f"CREATE TEMP TABLE {UNITS} (key text, round integer, first_ord integer, "
            f"n_rows integer, {builtins}, fields jsonb)"
        )

    def _stage(self) -> int:
        """COPY every data row into the staging table; return the row count."""
        columns = ", ".join(["ord", "row_no", *self.cells, "orig"])
        sql = (
            f"COPY {RAW} ({columns}) FROM STDIN WITH "
            f"(FORMAT csv, FORCE_NOT_NULL ({', '.join([*self.cells, 'orig'])}))"
        )
        total = 0
        rows = self.source.rows()
        for data, count in in_thread(csv_batches(rows, self.width, COPY_ROWS), depth=4):
            self.cursor.cursor.copy_expert(sql, io.BytesIO(data))
            total += count
        self.cursor.execute(f"CREATE INDEX ON {RAW} (ord)")
        return total

    def _clean_statement(self) -> tuple[str, list]:
        region = self.account.default_phone_region
        key_field = self.account.contact_key
        inner, params = ["ord"], []
        builtin_of: dict[str, str] = {}
        json_of: list[tuple[str, str]] = []
        for index, name in enumerate(self.mapping):
            if not name:
                continue
            cell, value = self.cells[index], f"v{index}"
            if name in BUILTIN_FIELDS:
                expr = builtin_cell(name, cell, key_field=key_field, region=region)
                builtin_of[name] = f"NULLIF({value}, '')" + (
                    "::date" if name == "birth_date" else ""
                )
            elif name in self.definitions:
                expr, to_json = custom_cell(self.definitions[name], cell, region=region)
                json_of.append((name, to_json.format(f"NULLIF({value}, '')")))
            else:
                # Deleted since the mapping was made: Python reports it on every row.
                expr = SqlExpr("NULL::text")
            inner.append(f"{expr.sql} AS {value}")
            params += expr.params
        values = [f"v{index}" for index, name in enumerate(self.mapping) if name]
        fields = " || ".join(
            "jsonb_build_object("
            + ", ".join(f"'{key}', {to_json}" for key, to_json in json_of[start : start + 50])
            + ")"
            for start in range(0, len(json_of), 50)
        )
        outer = [
            "ord",
            builtin_of[key_field],
            *(builtin_of.get(name, "NULL") for name in BUILTINS),
            f"jsonb_strip_nulls({fields})" if json_of else "'{}'::jsonb",
        ]
        sql = (
            f"INSERT INTO {CLEAN} (ord, key, {', '.join(BUILTINS)}, fields) "
            f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {RAW} "
            "WHERE ord >= %s AND ord < %s AND orig = '' OFFSET 0) AS cleaned "
            f"WHERE {' AND '.join(f'{value} IS NOT NULL' for value in values)}"
        )
        return sql, params

    def _clean_batch(self, clean_sql: str, clean_params: list, start: int, end: int) -> None:
        self.cursor.execute(f"TRUNCATE {CLEAN}")
        self.cursor.execute(clean_sql, [*clean_params, start, end])
        if self.cursor.rowcount == end - start:
            return  # SQL settled every row
        columns = ", ".join(["r.ord", "r.row_no", *(f"r.{cell}" for cell in self.cells), "r.orig"])
        writer = _CleanRowWriter(self.cursor)
        with connection.chunked_cursor() as rows:
            rows.execute(
                f"SELECT {columns} FROM {RAW} AS r WHERE r.ord >= %s AND r.ord < %s AND "
                f"NOT EXISTS (SELECT FROM {CLEAN} AS c WHERE c.ord = r.ord) ORDER BY r.ord",
                [start, end],
            )
            while fetched := rows.fetchmany(FALLBACK_FETCH_ROWS):
                for ordinal, row_number, *cells, orig in fetched:
                    self._clean_in_python(
                        writer, ordinal, row_number, json.loads(orig) if orig else cells
                    )
        writer.flush()

    def _clean_in_python(self, writer, ordinal: int, row_number: int, cells: list[str]) -> None:
        """What the Python engine does with one row, up to the write."""
        refusal = self.source.refusal(cells)
        if refusal:
            self.report.add(row_number, "", refusal, cells)
            return
        clean = self.cleaner.clean(self.source.data(cells), blank_clears=False)
        if not clean.errors and not clean.key:
            clean.errors[self.account.contact_key] = _("required: it identifies the contact")
        if clean.errors:
            self.report.add_errors(row_number, clean.errors, cells, self.source.column_of)
            return
        writer.add(ordinal, clean)

    def _write_batch(self) -> None:
        execute = self.cursor.execute
        execute(f"TRUNCATE {KEYS}, {UNITS}")
        # Keys given by several rows of the batch: usually none.
        execute(f"INSERT INTO {KEYS} SELECT key FROM {CLEAN} GROUP BY key HAVING count(*) > 1")
        self.repeated_keys = self.cursor.rowcount > 0
        rounds = 1
        if self.repeated_keys:
            last_wins = ", ".join(
                f"(array_agg(c.{name} ORDER BY c.ord DESC) FILTER (WHERE c.{name} IS NOT NULL))[1]"
                f" AS {name}"
                for name in BUILTINS
            )
            # Merged per chunk, in order: a later non-blank value wins.
            execute(
                f"INSERT INTO {UNITS} SELECT key, "
                "dense_rank() OVER (PARTITION BY key ORDER BY chunk), "
                f"first_ord, n_rows, {', '.join(BUILTINS)}, fields FROM ("
                f"SELECT c.key, c.ord / {CHUNK_ROWS} AS chunk, min(c.ord) AS first_ord, "
                f"count(*) AS n_rows, {last_wins}, "
                "COALESCE((SELECT jsonb_object_agg(e.key, e.value ORDER BY f.o) FROM "
                "unnest(array_agg(c.fields ORDER BY c.ord)) WITH ORDINALITY AS f(j, o), "
                "jsonb_each(f.j) AS e), '{}') AS fields "
                f"FROM {CLEAN} AS c WHERE c.key IN (SELECT key FROM {KEYS}) "
                f"GROUP BY c.key, c.ord / {CHUNK_ROWS}) AS merged"
            )
            execute(f"SELECT max(round) FROM {UNITS}")
            rounds = self.cursor.fetchone()[0]
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    # Fields may have changed since the import began (see layout_for_writing).
                    self.layout = layout_for_writing(self.account.pk)
                    counts = [self._write_round(r) for r in range(1, rounds + 1)]
                break
            except IntegrityError:
                # Another writer inserted one of these keys in between: run again, they now
                # exist (as contacts_bulk_upsert does).
                if attempt == 2:
                    raise
        for created, updated, skipped in counts:
            self.counts["created"] += created
            self.counts["updated"] += updated
            self.counts["skipped"] += skipped

    def _write_round(self, round_: int) -> tuple[int, int, int]:
        """Write every key's `round_`-th chunk of the batch in one statement; return counts.

        `plan` holds one row per key: its merged values (a blank cell keeps the stored value),
        its consent statuses and whether the duplicate policy skips it. From it, in the same
        statement, contacts are inserted and updated, and the ledger, suppressions and list
        memberships are appended, as contacts_bulk_upsert does for one chunk.
        """
        builtins = ", ".join(BUILTINS)
        columns = ", ".join(f"c.{name}" for name in BUILTINS)
        units = f"SELECT key, first_ord, n_rows, {builtins}, fields FROM {UNITS} WHERE round = %(round)s"
        if round_ == 1:
            single = (
                f"SELECT c.key, c.ord AS first_ord, 1 AS n_rows, {columns}, c.fields "
                f"FROM {CLEAN} AS c"
            )
            if self.repeated_keys:
                single += f" WHERE NOT EXISTS (SELECT FROM {KEYS} AS k WHERE k.key = c.key)"
                units = f"{single} UNION ALL {units}"
            else:
                units = single
            # Locked before they are read, in id order, as contacts_bulk_upsert does.
            existing = (
                f"SELECT t.* FROM {CONTACT} AS t WHERE t.id = ANY(ARRAY({self._existing_ids(CLEAN)}))"
                " ORDER BY t.id FOR UPDATE"
            )
        else:
            existing = (
                f"SELECT t.* FROM {CONTACT} AS t WHERE t.id = ANY(ARRAY("
                f"{self._existing_ids(f'{UNITS} WHERE round = %(round)s')}))"
            )
        merged = ", ".join(
            f"COALESCE(u.{name}, t.{name}) AS {name}"
            if name == "birth_date"
            else f"COALESCE(u.{name}, t.{name}, '') AS {name}"
            for name in BUILTINS
        )
        email_status, email_params = self._status_sql(Channel.EMAIL, "email")
        sms_status, sms_params = self._status_sql(Channel.SMS, "mobile")
        plan = (
            f"SELECT key, first_ord, n_rows, contact_id, is_new, skipped, {builtins}, fields, "
            f"{email_status} AS email_status, {sms_status} AS sms_status, "
            "old_email_status, old_sms_status FROM ("
            "SELECT u.key, u.first_ord, u.n_rows, t.id AS contact_id, t.id IS NULL AS is_new, "
            "(t.id IS NULL AND %(policy)s = 'update_only') OR (t.id IS NOT NULL AND %(policy)s = "
            f"'skip') AS skipped, {merged}, "
            "CASE WHEN t.id IS NULL THEN jsonb_strip_nulls(u.fields) WHEN u.fields = '{}' "
            "THEN t.fields ELSE (t.fields - ARRAY(SELECT e.key FROM jsonb_each(u.fields) AS e "
            "WHERE e.value = 'null')) || jsonb_strip_nulls(u.fields) END AS fields, "
            "t.email_status AS old_email_status, t.sms_status AS old_sms_status "
            "FROM units AS u LEFT JOIN existing AS t ON t.key = u.key) AS planned"
        )
        statements = [
            f"units AS ({units})",
            f"existing AS MATERIALIZED ({existing})",
            f"plan AS MATERIALIZED ({plan})",
            *self._writes(),
        ]
        self.cursor.execute(
            f"WITH {', '.join(statements)} "
            "SELECT count(*) FILTER (WHERE is_new AND NOT skipped), "
            "COALESCE(sum(n_rows) FILTER (WHERE NOT skipped), 0), "
            "COALESCE(sum(n_rows) FILTER (WHERE skipped), 0) FROM plan",
            {
                **self._write_params(),
                **email_params,
                **sms_params,
                "policy": self.policy,
                "round": round_,
            },
        )
        created, written, skipped = self.cursor.fetchone()
        return created, written - created, skipped

    @staticmethod
    def _existing_ids(source: str) -> str:
        """Ids of the account's contacts with the keys of `source`, one index probe per key.

        The account's statistics are stale during an import (it may have had no contact when
        they were taken): given its id as a constant, the planner then expects one contact and
        probes any index on account_id, filtering on the key, batch after batch over a growing
        account. Given as an (InitPlan) parameter, the id gets the generic estimate, and the
        (account, key) unique index is used.
        """
        return (
            f"SELECT found.id FROM (SELECT DISTINCT key FROM {source}) AS k CROSS JOIN LATERAL "
            f"(SELECT c.id FROM {CONTACT} AS c WHERE c.account_id = (SELECT %(account)s::bigint) "
            "AND c.key = k.key LIMIT 1) AS found"
        )

    def _status_sql(self, channel: str, address: str) -> tuple[str, dict]:
        """The channel's status after the import, as consent.status_after decides it."""
        requested = self.defaults.get(channel)
        kept = f"COALESCE(old_{channel}_status, '{ConsentStatus.NONE}')"
        if requested is None:
            return kept, {}
        params = {f"{channel}_requested": requested}
        status = f"%({channel}_requested)s"
        if requested in WANTS_CONSENT:
            # A suppressed address is never re-subscribed by an import. (The account id is a
            # parameter for the reason given in _existing_ids.)
            status = (
                f"CASE WHEN EXISTS (SELECT FROM {SUPPRESSION} AS s WHERE s.account_id = "
                f"(SELECT %(account)s::bigint) AND s.channel = '{channel}' AND s.address_hash = {_sha256(address)}"
                f") THEN '{ConsentStatus.UNSUBSCRIBED}' ELSE {status} END"
            )
        return f"CASE WHEN {address} = '' THEN {kept} ELSE {status} END", params

    def _writes(self) -> list[str]:
        builtins = ", ".join(BUILTINS)
        compared = [*BUILTINS, "fields", "email_status", "sms_status"]
        needs_ids = bool(self.defaults) or self.contact_import.target_list_id is not None
        layout = self.layout

        def typed(source: str) -> str:
            # The typed copies of the custom values (contacts.typed_values), from the final JSON.
            return ", ".join(layout.sql(column, source, "postgresql") for column in TYPED_COLUMNS)

        statements = [
            f"inserted AS (INSERT INTO {CONTACT} (account_id, key, {builtins}, fields, "
            f"{', '.join(TYPED_COLUMNS)}, email_status, sms_status, created_at, updated_at) "
            f"SELECT %(account)s, key, {builtins}, fields, {typed('fields')}, email_status, "
            "sms_status, statement_timestamp(), statement_timestamp() "
            "FROM plan WHERE is_new AND NOT skipped ORDER BY first_ord"
            + (" RETURNING id, email, mobile, email_status, sms_status)" if needs_ids else ")"),
            # Only contacts with a change are written (and get a new updated_at).
            f"updated AS (UPDATE {CONTACT} AS t SET "
            + ", ".join(f"{name} = p.{name}" for name in compared)
            + ", "
            + ", ".join(
                f"{column} = {layout.sql(column, 'p.fields', 'postgresql')}"
                for column in TYPED_COLUMNS
            )
            + ", updated_at = statement_timestamp() FROM plan AS p WHERE NOT p.is_new AND NOT p.skipped AND "
            f"t.id = p.contact_id AND ({', '.join(f't.{n}' for n in compared)}) "
            f"IS DISTINCT FROM ({', '.join(f'p.{n}' for n in compared)}))",
        ]
        changes = []
        for channel, address in ((Channel.EMAIL, "email"), (Channel.SMS, "mobile")):
            if channel in self.defaults:
                # A new contact's status is always recorded; an existing one's when it changes.
                changes.append(
                    f"SELECT id, '{channel}' AS channel, {address} AS address, "
                    f"{channel}_status AS status FROM inserted WHERE {address} <> ''"
                )
                changes.append(
                    f"SELECT contact_id, '{channel}', {address}, {channel}_status FROM plan "
                    f"WHERE NOT is_new AND NOT skipped AND {channel}_status <> old_{channel}_status"
                )
        if changes:
            statements += [
                f"ledger AS (INSERT INTO {LEDGER} (account_id, contact_id, address_hash, channel, "
                "status, source, ip_address, user_agent, wording, form, version, actor, created_at) "
                f"SELECT %(account)s, id, {_sha256('address')}, channel, status, %(source)s, "
                "%(ip)s, %(agent)s, %(wording)s, %(form)s, %(version)s, %(actor)s, statement_timestamp() "
                f"FROM ({' UNION ALL '.join(changes)}) AS changes "
                "RETURNING channel, status, address_hash)",
                # As suppression_add does for every unsubscribe.
                f"suppressed AS (INSERT INTO {SUPPRESSION} (account_id, channel, address_hash, "
                "reason, created_at) SELECT DISTINCT %(account)s, channel, address_hash, "
                f"'{Suppression.Reason.UNSUBSCRIBED}', statement_timestamp() FROM ledger "
                f"WHERE status = '{ConsentStatus.UNSUBSCRIBED}' "
                "ON CONFLICT (account_id, channel, address_hash) DO NOTHING)",
            ]
        if self.contact_import.target_list_id is not None:
            # Skipped existing contacts join the list too, as in contacts_bulk_upsert.
            statements.append(
                f"members AS (INSERT INTO {MEMBERSHIP} (contact_list_id, contact_id, status, "
                f"created_at, updated_at) SELECT %(list)s, id, '{ListMembership.Status.SUBSCRIBED}'"
                ", statement_timestamp(), statement_timestamp() FROM (SELECT id FROM inserted UNION ALL SELECT contact_id "
                "FROM plan WHERE NOT is_new) AS m ON CONFLICT (contact_list_id, contact_id) "
                "DO NOTHING)"
            )
        return statements

    def _write_params(self) -> dict:
        proof = self.proof
        return {
            "account": self.account.pk,
            "list": self.contact_import.target_list_id,
            "source": proof.source,
            "ip": proof.ip_address,
            "agent": proof.user_agent[:400],
            "wording": proof.wording,
            "form": proof.form,
            "version": proof.version,
            "actor": proof.actor,
        }

    def _progress(self, processed: int) -> None:
        reset_queries()
        ContactImport.objects.filter(pk=self.contact_import.pk).update(
            processed_rows=processed,
            created_count=self.counts["created"],
            updated_count=self.counts["updated"],
            skipped_count=self.counts["skipped"],
            error_count=self.report.count,
        )


def _sha256(expression: str) -> str:
    """contacts.models.address_hash in SQL."""
    return f"encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"


class _CleanRowWriter:
    """COPY rows cleaned by Python into the clean table, a few thousand at a time."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.count = 0

    def add(self, ordinal: int, clean) -> None:
        builtins = clean.builtins
        self.writer.writerow(
            [
                ordinal,
                clean.key,
                *(builtins.get(name) for name in BUILTINS),
                json.dumps(clean.custom, ensure_ascii=False),
            ]
        )
        self.count += 1
        if self.count >= COPY_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.count:
            self.buffer.seek(0)
            self.cursor.cursor.copy_expert(
                f"COPY {CLEAN} (ord, key, {', '.join(BUILTINS)}, fields) FROM STDIN WITH (FORMAT csv)",
                self.buffer,
            )
        self.buffer.seek(0)
        self.buffer.truncate()
        self.count = 0
