"""Writing a page of the shop mirror (ShopCustomer, ShopOrder, ShopCart) in one statement.

A full import writes hundreds of thousands of mirror rows; the ORM's `bulk_create(...,
update_conflicts=True)` spent most of that time building model instances and preparing each
value (a Magento import of 60,000 orders: 3.5 s of its 22 s). On PostgreSQL each column's
values go as one array, `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`, adapted by
psycopg2's C adapters; other databases (the embedded SQLite) keep the ORM path.

The mirror is the connectors' own table, not contact data: writing it here does not bypass the
contacts services.
"""

import json

from django.db import connection as db
from django.db.models import Model

UNIQUE = ("connection_id", "external_id")


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
    names = list(unique_rows[0])
    fields = {field.attname: field for field in model._meta.concrete_fields}
    arrays, casts = [], []
    for name in names:
        field = fields[name]
        db_type = field.db_type(db)
        values = [row[name] for row in unique_rows]
        if db_type == "jsonb":
            # Sent as text and cast: psycopg2 has no array adapter for Json().
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        arrays.append(values)
        casts.append(f"%s::{db_type}[]")
    columns = ", ".join(fields[name].column for name in names)
    assignments = ", ".join(
        f"{fields[name].column} = EXCLUDED.{fields[name].column}" for name in update
    )
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({columns}) "  # noqa: S608 - names from the model
            f"SELECT * FROM unnest({', '.join(casts)}) "
            f"ON CONFLICT ({', '.join(UNIQUE)}) DO UPDATE SET {assignments}",
            arrays,
        )
