"""Accent-insensitive contact search on PostgreSQL: an immutable normalising function over the
`unaccent` extension and a trigram index on it (contacts/search.py). SQLite gets the same
function from Python on each connection; nothing to migrate there."""

from django.db import ProgrammingError, migrations

# unaccent() is declared STABLE (its dictionary could change): an index needs an IMMUTABLE
# function. Bound to the extension's C entry point, the whole expression is immutable, so
# PostgreSQL inlines contact_search_text and a search costs about what five ILIKEs did; creating
# a C function takes a superuser, else the SQL wrapper (the same result, ~2.5x slower per row).
UNACCENT_C = """
CREATE OR REPLACE FUNCTION contact_unaccent(regdictionary, text) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT AS '$libdir/unaccent', 'unaccent_dict'
"""
UNACCENT_SQL = """
CREATE OR REPLACE FUNCTION contact_unaccent(regdictionary, text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT public.unaccent($1, $2) $$
"""
# `||` rather than concat_ws (STABLE), so that the function can be inlined.
SEARCH_TEXT = """
CREATE OR REPLACE FUNCTION contact_search_text(text, text, text, text, text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(contact_unaccent(
        'public.unaccent'::regdictionary,
        coalesce($1, '') || ' ' || coalesce($2, '') || ' ' || coalesce($3, '') || ' '
        || coalesce($4, '') || ' ' || coalesce($5, '')
    ))
$$
"""
# CONCURRENTLY: a big contacts table keeps taking writes while the index is built.
INDEX = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS contact_search_trgm ON contacts_contact
USING gin (contact_search_text(email, first_name, last_name, company, mobile) gin_trgm_ops)
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # Both are trusted extensions (PostgreSQL 13+): the database owner may create them.
        cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        try:
            cursor.execute(UNACCENT_C)
        except ProgrammingError:  # not a superuser (a managed database, say)
            cursor.execute(UNACCENT_SQL)
        cursor.execute(SEARCH_TEXT)
        cursor.execute(INDEX)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX CONCURRENTLY IF EXISTS contact_search_trgm")
        cursor.execute("DROP FUNCTION IF EXISTS contact_search_text(text, text, text, text, text)")
        cursor.execute("DROP FUNCTION IF EXISTS contact_unaccent(regdictionary, text)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("contacts", "0003_typed_values")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
