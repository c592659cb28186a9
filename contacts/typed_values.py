"""Typed copies of custom number and date values, so that segments compare them at column speed.

Custom values live in `Contact.fields` (JSON). Reading one back out of JSON and casting it costs
PostgreSQL several times what comparing a real column costs, which is what a segment count over
a million contacts spends its time on. So each number/decimal and date field also gets a *slot*
(`ContactField.slot`), and every write path stores the contact's values in two arrays indexed by
slot: `Contact.number_values` (double precision, as segments compare numbers) and
`Contact.date_values`. A covering index on (account, id) includes both arrays, so a count reads
the index alone, in id order, ready for a merge join with list memberships.

The arrays are derived data, always rewritten from `fields` by the code that writes `fields`:
the contact services (contacts_bulk_upsert, contact_update), the bulk writers, the PostgreSQL import statements and the field services
(type change, delete). Slots are per account and per array; a deleted field's slot is cleared
before it is reused.
"""

from dataclasses import dataclass

from django.db import connection

from contacts.model_fields import parse_date, parse_number
from contacts.models import Contact, ContactField

NUMBER_COLUMN = "number_values"
DATE_COLUMN = "date_values"
TYPED_COLUMNS = (NUMBER_COLUMN, DATE_COLUMN)
# Which array holds a field type's values; other types stay in JSON only.
STORAGE_OF_TYPE = {"number": NUMBER_COLUMN, "decimal": NUMBER_COLUMN, "date": DATE_COLUMN}
# An array of 100 doubles is 800 bytes: well inside PostgreSQL's limit on an index entry (2,704
# bytes), which the covering index must respect.
MAX_SLOTS = 100
_SQL_ELEMENT = {NUMBER_COLUMN: "double precision", DATE_COLUMN: "date"}


_PARSE = {NUMBER_COLUMN: parse_number, DATE_COLUMN: parse_date}


@dataclass(frozen=True)
class TypedLayout:
    """An account's slots: for each array, the field key held at each position (None: free)."""

    slots: dict[str, tuple[str | None, ...]]

    @classmethod
    def for_account(cls, account_id: int) -> "TypedLayout":
        rows = ContactField.objects.filter(account_id=account_id, slot__isnull=False).values_list(
            "type", "slot", "key"
        )
        keys: dict[str, dict[int, str]] = {NUMBER_COLUMN: {}, DATE_COLUMN: {}}
        for field_type, slot, key in rows:
            if field_type in STORAGE_OF_TYPE:
                keys[STORAGE_OF_TYPE[field_type]][slot] = key
        return cls(
            {
                column: tuple(by_slot.get(slot) for slot in range(1, max(by_slot, default=0) + 1))
                for column, by_slot in keys.items()
            }
        )

    def arrays(self, fields: dict | None) -> dict[str, list]:
        """The arrays of a contact whose custom values are `fields`."""
        fields = fields or {}
        return {
            column: [
                None if key is None else _PARSE[column](fields.get(key))
                for key in self.slots[column]
            ]
            for column in TYPED_COLUMNS
        }

    def apply(self, contact) -> None:
        for column, values in self.arrays(contact.fields).items():
            setattr(contact, column, values)

    def sql(self, column: str, source: str, vendor: str) -> str:
        """SQL computing `column` from the JSON custom values `source` (a trusted expression)."""
        keys = self.slots[column]
        # Only what arrays() keeps is cast (a JSON number; an ISO date text): anything else, which
        # no write path stores, is NULL there too, rather than an error that would abort a whole
        # import or migration. Keys are validated [a-z0-9_] slugs, safe in SQL and JSON paths.
        if vendor == "postgresql":
            element = _SQL_ELEMENT[column]
            items = [
                f"NULL::{element}" if key is None else _pg_typed(column, f"{source} -> '{key}'")
                for key in keys
            ]
            return f"ARRAY[{', '.join(items)}]::{element}[]" if items else f"'{{}}'::{element}[]"
        items = [
            "NULL" if key is None else _sqlite_typed(column, source, f'$."{key}"') for key in keys
        ]
        return f"json_array({', '.join(items)})"


def _pg_typed(column: str, value: str) -> str:
    if column == NUMBER_COLUMN:
        return f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::double precision END"
    text = f"(({value}) #>> '{{}}')"
    return (
        f"CASE WHEN jsonb_typeof({value}) = 'string' AND {text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'"
        f" THEN {text}::date END"
    )


def _sqlite_typed(column: str, source: str, path: str) -> str:
    kinds = "('integer', 'real')" if column == NUMBER_COLUMN else "('text')"
    return (
        f"CASE WHEN json_type({source}, '{path}') IN {kinds} "
        f"THEN json_extract({source}, '{path}') END"
    )


def layout_for_writing(account_id: int) -> TypedLayout:
    """The layout, read under a lock that field changes conflict with (they lock the account row
    FOR UPDATE, see contacts.services.fields): until the caller's transaction ends no slot is
    freed, taken or moved, so the arrays it writes fit the fields it writes. In a transaction."""
    if connection.vendor == "postgresql":
        # KEY SHARE: ordinary updates of the account row (its settings) are not held up.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM accounts_account WHERE id = %s FOR KEY SHARE", [account_id]
            )
    return TypedLayout.for_account(account_id)


def slot_clear(account_id: int, column: str, slot: int) -> None:
    """Empty one slot in every contact of the account: a slot handed to a new field starts empty,
    whatever was written there before (e.g. by a write that raced the old field's deletion)."""
    table, index = Contact._meta.db_table, int(slot)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {column}[{index}] = NULL "  # noqa: S608 - trusted names
                f"WHERE account_id = %s AND {column}[{index}] IS NOT NULL",
                [account_id],
            )
        else:
            path = f"$[{index - 1}]"
            cursor.execute(
                f"UPDATE {table} SET {column} = json_replace({column}, %s, NULL) "  # noqa: S608
                f"WHERE account_id = %s AND json_extract({column}, %s) IS NOT NULL",
                [path, account_id, path],
            )


def free_slot(account_id: int, column: str, *, exclude_field_id: int | None = None) -> int | None:
    """The lowest slot of `column` no field of the account holds, or None when all are taken."""
    types = [field_type for field_type, held_in in STORAGE_OF_TYPE.items() if held_in == column]
    taken = set(
        ContactField.objects.filter(account_id=account_id, type__in=types, slot__isnull=False)
        .exclude(pk=exclude_field_id)
        .values_list("slot", flat=True)
    )
    return next((slot for slot in range(1, MAX_SLOTS + 1) if slot not in taken), None)


def typed_values_refresh(account_id: int, *, only_key: str | None = None) -> int:
    """Rewrite the arrays of the account's contacts from their JSON values, in one statement
    (of those holding `only_key` if given). For field type changes and data migrations."""
    layout = TypedLayout.for_account(account_id)
    vendor = connection.vendor
    table = Contact._meta.db_table
    params: list = [account_id]
    where = "account_id = %s"
    if only_key is not None:
        if vendor == "postgresql":
            where += " AND fields ? %s"
            params.append(only_key)
        else:
            where += " AND json_type(fields, %s) IS NOT NULL"
            params.append(f'$."{only_key}"')
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {NUMBER_COLUMN} = {layout.sql(NUMBER_COLUMN, 'fields', vendor)}, "  # noqa: S608 - keys are validated slugs
            f"{DATE_COLUMN} = {layout.sql(DATE_COLUMN, 'fields', vendor)} WHERE {where}",
            params,
        )
        return cursor.rowcount
