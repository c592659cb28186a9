"""contact_search_text calls contact_unaccent by its schema-qualified name.

Autovacuum runs ANALYZE with an empty search_path: evaluating the trigram index's expression,
it could not find the unqualified contact_unaccent, and every automatic ANALYZE of the contacts
table failed. Without statistics the planner took a contacts table of any size for a few dozen
rows (a 100,000-contact import's look-ups by key scanned every contact of the account). Same
function, same results: the index stays as it is."""

from django.db import migrations

SEARCH_TEXT = """
CREATE OR REPLACE FUNCTION public.contact_search_text(text, text, text, text, text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(public.contact_unaccent(
        'public.unaccent'::regdictionary,
        coalesce($1, '') || ' ' || coalesce($2, '') || ' ' || coalesce($3, '') || ' '
        || coalesce($4, '') || ' ' || coalesce($5, '')
    ))
$$
"""
PREVIOUS = SEARCH_TEXT.replace("public.contact_unaccent(", "contact_unaccent(")


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_consent_source_sms_reply")]

    operations = [migrations.RunPython(_run(SEARCH_TEXT), _run(PREVIOUS), elidable=False)]
