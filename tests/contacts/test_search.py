"""Contact search ignores accents and case on both databases, and understands a phone number
typed the national way (the account's default region)."""

import pytest
from django.db import connection

from contacts.search import normalise, phone_forms
from contacts.selectors import contacts_search
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def base(account):
    ContactFactory(
        account=account, email="elodie@exemple.fr", first_name="Élodie", last_name="Lœuvre"
    )
    ContactFactory(
        account=account, email="jerome@exemple.fr", first_name="JÉRÔME", company="Crème & Cie"
    )
    ContactFactory(account=account, email="mobile@exemple.fr", mobile="+33612345678")
    ContactFactory(account=account, email="zoe@exemple.fr", first_name="Zoé")
    # Another account's Élodie is never found.
    ContactFactory(account=AccountFactory(), email="elodie@ailleurs.fr", first_name="Élodie")
    return account


def found(account, query):
    return sorted(contacts_search(account, query=query).values_list("email", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("élodie", ["elodie@exemple.fr"]),
        ("ELODIE", ["elodie@exemple.fr"]),
        ("Elodie", ["elodie@exemple.fr"]),
        ("loeuvre", ["elodie@exemple.fr"]),
        ("Lœuvre", ["elodie@exemple.fr"]),
        ("jérôme", ["jerome@exemple.fr"]),
        ("jerome", ["jerome@exemple.fr"]),
        ("creme", ["jerome@exemple.fr"]),
        ("zoe", ["zoe@exemple.fr"]),
        ("ZOÉ@", ["zoe@exemple.fr"]),
        (
            "@exemple.fr",
            ["elodie@exemple.fr", "jerome@exemple.fr", "mobile@exemple.fr", "zoe@exemple.fr"],
        ),
        ("100%", []),
        ("_", []),
    ],
)
def test_accents_and_case_are_ignored(base, query, expected):
    assert found(base, query) == expected


@pytest.mark.parametrize(
    "query",
    ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "+33612345678",
     "06 12 34", "612345"],
)  # fmt: skip
def test_a_phone_typed_the_national_way_is_found(base, query):
    assert found(base, query) == ["mobile@exemple.fr"]


def test_the_region_is_the_accounts(base):
    base.default_phone_region = "BE"
    base.save(update_fields=["default_phone_region"])
    # In Belgium 06 12 34 56 78 is not this French mobile.
    assert found(base, "06 12 34 56 78") == []
    assert found(base, "+33 6 12 34 56 78") == ["mobile@exemple.fr"]


def test_phone_forms():
    assert phone_forms("06 12 34 56 78", "FR") == ("+33612345678", "+33612345678")
    assert phone_forms("06 12", "FR") == (None, "+33612")
    assert phone_forms("élodie", "FR") == (None, None)
    assert phone_forms("0032 2 123 45 67", "FR")[1] is None


def test_normalise_matches_unaccent_on_french_text():
    assert (
        normalise("Élodie LŒUVRE, Ça, Noël, Hélène, Æsir")
        == "elodie loeuvre, ca, noel, helene, aesir"
    )


def test_the_page_and_the_api_search_the_same_way(base, logged_in_client, api_client):
    page = logged_in_client.get("/contacts/", {"q": "élodie"}).content.decode()
    assert "elodie@exemple.fr" in page and "elodie@ailleurs.fr" not in page
    api = api_client.get("/api/v1/contacts/", {"q": "06 12 34 56 78"}).json()
    assert [item["email"] for item in api["results"]] == ["mobile@exemple.fr"]


@requires_postgres
def test_postgres_search_expression_is_the_trigram_index(base):
    """The search's expression is the index's own, so PostgreSQL can answer from
    contact_search_trgm (on a big account the planner chooses it; bench/contacts_search.py
    measures it on 100,000 contacts)."""
    from contacts.models import Contact
    from contacts.search import search_filter

    alias, condition = search_filter("élodie", base.default_phone_region)
    sql, params = (
        Contact.objects.alias(**alias)
        .filter(condition)
        .order_by()
        .values("pk")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on contact_search_trgm" in plan, plan


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_contacts_table_can_be_analysed_with_an_empty_search_path():
    """Autovacuum runs ANALYZE with an empty search_path: the search index's expression must
    name its functions by schema, or no automatic ANALYZE of the contacts table ever succeeds
    (and the planner takes it for empty)."""
    # given: committed contacts (ANALYZE evaluates the index's expression on its sample)
    account = AccountFactory()
    for index in range(20):
        ContactFactory(account=account, email=f"c{index}@exemple.fr", first_name="Élodie")
    # when: a session of its own, as autovacuum's (this one has the index's expression cached)
    import psycopg2

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    fresh = psycopg2.connect(**params, options="-c search_path=")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("ANALYZE public.contacts_contact")
            cursor.execute(
                "SELECT count(*) FROM pg_catalog.pg_stats "
                "WHERE tablename = 'contacts_contact' AND attname = 'key'"
            )
            # then
            assert cursor.fetchone()[0] == 1
    finally:
        fresh.close()
