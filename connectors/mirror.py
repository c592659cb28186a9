"""Writing a page of the shop mirror (ShopCustomer, ShopOrder, ShopCart) in one statement.

A full import writes hundreds of thousands of mirror rows; the ORM's `bulk_create(...,
update_conflicts=True)` spent most of that time building model instances and preparing each
value (a Magento import of 60,000 orders: 3.5 s of its 22 s). On PostgreSQL a page is COPied
into a temporary table and merged with one `INSERT … SELECT … ON CONFLICT DO UPDATE`
(11 ms a page of 500 orders; the same rows as one statement of literal arrays took 20 ms,
half of it parsing the literals; the CSV is written by the csv module, in C); other databases (the embedded SQLite) keep the ORM path.

The mirror is the connectors' own table, not contact data: writing it here does not bypass the
contacts services.
"""

import io
import json
from operator import itemgetter

from django.db import connection as db
from django.db import transaction
from django.db.models import Model

from contacts.services.bulk_write import copy_csv, force_not_null

UNIQUE = ("connection_id", "external_id")


def _csv(rows: list[tuple], json_positions: list[int]) -> io.StringIO:
    """Rows for COPY (contacts.services.bulk_write.copy_csv), JSON columns as JSON text."""
    if json_positions:
        rows = [list(row) for row in rows]
        for row in rows:
            for position in json_positions:
                if row[position] is not None:
                    row[position] = json.dumps(row[position], ensure_ascii=False)
    return copy_csv(rows)


def mirror_upsert(model: type[Model], rows: list[dict], *, update: list[str]) -> None:
    """Insert or update rows (dicts of attribute name → value, keyed by connection and
    external id); on a conflict, the `update` columns take the new values. A key given twice
    keeps its last row (PostgreSQL refuses to update one row twice in a statement)."""
    if not rows:
        return
    unique_rows = list({(row["connection_id"], row["external_id"]): row for row in rows}.values())
    if db.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**row) for row in unique_rows],
            update_conflicts=True,
            unique_fields=["connection", "external_id"],
            update_fields=update,
            batch_size=1000,
        )
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    names = list(unique_rows[0])
    values = itemgetter(*names)
    json_positions = [i for i, name in enumerate(names) if fields[name].db_type(db) == "jsonb"]
    buffer = _csv([values(row) for row in unique_rows], json_positions)
    not_null = force_not_null(model, [fields[name].column for name in names])
    table = model._meta.db_table
    incoming = f"{table}_incoming"
    every_column = ", ".join(f.column for f in fields.values() if not f.primary_key)
    columns = ", ".join(fields[name].column for name in names)
    assignments = ", ".join(
        f"{fields[name].column} = EXCLUDED.{fields[name].column}" for name in update
    )
    # The temporary table lives as long as the database session and is emptied at each commit;
    # the savepoint makes sure that the COPY and the merge share one transaction.
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {incoming} ON COMMIT DELETE ROWS "  # noqa: S608
            f"AS SELECT {every_column} FROM {table} WITH NO DATA"
        )
        cursor.cursor.copy_expert(
            f"COPY {incoming} ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))",
            buffer,
        )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {incoming} "  # noqa: S608
            f"ON CONFLICT ({', '.join(UNIQUE)}) DO UPDATE SET {assignments}"
        )
        # Emptied for a second page in the same transaction.
        cursor.execute(f"DELETE FROM {incoming}")  # noqa: S608
