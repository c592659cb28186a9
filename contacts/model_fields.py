"""Model fields of the contact base: `TypedArrayField`, the column type of the typed copies of
custom number and date values (see contacts.typed_values, which fills them)."""

import json
from datetime import date

from django.db import models


def parse_number(value) -> float | None:
    # bool is an int in Python; a canonical number value never is one.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class TypedArrayField(models.Field):
    """A list of numbers or dates: a real array on PostgreSQL (SQL reads an element by its index),
    JSON text on other databases (where segments read the JSON `fields` instead)."""

    description = "Array of numbers or dates"

    def __init__(self, *args, element: str = "double precision", **kwargs):
        if element not in ("double precision", "date"):
            raise ValueError(f"unsupported element type {element!r}")
        self.element = element
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["element"] = self.element
        for key, default in (("default", list), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                del kwargs[key]
        return name, path, args, kwargs

    def db_type(self, connection):
        return f"{self.element}[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        items = list(value or [])
        if connection.vendor == "postgresql":
            # An array literal: an untyped constant that PostgreSQL reads as the column's type,
            # where a Python list would be sent as ARRAY[NULL], a text[] it refuses.
            return (
                "{" + ",".join("NULL" if item is None else _literal(item) for item in items) + "}"
            )
        return json.dumps([None if item is None else _json_item(item) for item in items])

    def to_python(self, value):
        """A list, from the database, a serialised value (loaddata) or a list."""
        if value is None:
            return []
        if isinstance(value, str):
            parse = parse_number if self.element == "double precision" else parse_date
            return [parse(item) for item in json.loads(value)]
        return list(value)

    def value_to_string(self, obj):
        """For dumpdata: a JSON list of numbers or ISO dates."""
        values = self.value_from_object(obj) or []
        return json.dumps([None if item is None else _json_item(item) for item in values])

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)


def _literal(item) -> str:
    return item.isoformat() if isinstance(item, date) else repr(float(item))


def _json_item(item) -> str | float:
    return item.isoformat() if isinstance(item, date) else float(item)
