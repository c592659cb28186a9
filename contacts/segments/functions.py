"""SQL functions the segment compiler needs on both databases."""

import hashlib

from django.db.models import CharField, Func


class ArrayElement(Func):
    """`array[index]` on PostgreSQL (NULL past the end): a typed custom value (typed_values)."""

    template = "(%(expressions)s)[%(index)d]"

    def __init__(self, expression, index: int, output_field):
        super().__init__(expression, index=int(index), output_field=output_field)


class Sha256Hex(Func):
    """Hex SHA-256 of a text: how suppressed addresses are stored (contacts.models.address_hash)."""

    function = "sha256_hex"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')",
            **extra_context,
        )


def sha256_hex(value):
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def register_sqlite_functions(sender, connection, **kwargs):
    """SQLite has no SHA-256: give every new connection the same function PostgreSQL has."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sha256_hex", 1, sha256_hex, deterministic=True)
