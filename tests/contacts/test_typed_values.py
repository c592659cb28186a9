"""Typed copies of custom numbers and dates (contacts/typed_values.py) stay equal to the JSON
values on every write path, and segments never see a deleted field's values."""

import pytest
from django.core import serializers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from contacts.cleaning import ContactCleaner
from contacts.imports import services as import_services
from contacts.models import Contact, ContactField, ContactImport
from contacts.segments.compiler import count_matching, segment_queryset
from contacts.segments.language import FieldCatalog, validate_rules
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contact_update, contacts_bulk_upsert
from contacts.services.fields import FieldError, field_create, field_delete, field_update
from contacts.services.lists import list_add_contacts
from contacts.typed_values import MAX_SLOTS, TypedLayout, typed_values_refresh
from tests.conftest import requires_postgres
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db
PROOF = ConsentProof(source="api")


def upsert(account, *rows, cleaner=None):
    return contacts_bulk_upsert(account=account, rows=list(rows), proof=PROOF, cleaner=cleaner)


def assert_in_step(account):
    """Every contact's arrays are what its JSON values give, under the current layout."""
    layout = TypedLayout.for_account(account.pk)
    contacts = list(Contact.objects.filter(account=account))
    assert contacts
    for contact in contacts:
        expected = layout.arrays(contact.fields)
        stored = {"number_values": contact.number_values, "date_values": contact.date_values}
        # Trailing empty slots may be absent: both read as NULL.
        for column, values in expected.items():
            padded = stored[column] + [None] * (len(values) - len(stored[column]))
            assert padded[: len(values)] == values, (contact.fields, column, stored[column])
            assert all(value is None for value in padded[len(values) :])


def matching(account, rules) -> set[str]:
    cleaned = validate_rules(rules, FieldCatalog.for_account(account), account)
    return set(segment_queryset(account, cleaned).values_list("email", flat=True))


def test_slots_are_per_kind_and_reused_after_a_delete(account):
    points = field_create(account=account, key="points", label="Points", type="number")
    spent = field_create(account=account, key="spent", label="Spent", type="decimal")
    since = field_create(account=account, key="since", label="Since", type="date")
    note = field_create(account=account, key="note", label="Note", type="text")
    assert (points.slot, spent.slot, since.slot, note.slot) == (1, 2, 1, None)
    upsert(
        account,
        {"email": "a@example.fr", "fields": {"points": "1", "note": "x", "since": "2024-01-01"}},
    )
    field_delete(field=points)
    field_delete(field=note)  # a field without a slot
    assert field_create(account=account, key="age", label="Age", type="number").slot == 1
    assert_in_step(account)
    assert Contact.objects.get(account=account).fields == {"since": "2024-01-01"}


def test_write_paths_keep_the_arrays_in_step(account, custom_fields):
    outcomes = upsert(
        account,
        {"email": "a@example.fr", "fields": {"points": "12", "last_order": "03/02/2024"}},
        {"email": "b@example.fr", "fields": {"spent": "12,50"}},
        {"email": "c@example.fr"},
    )
    assert [outcome.status for outcome in outcomes] == ["created"] * 3
    assert_in_step(account)
    a = Contact.objects.get(account=account, email="a@example.fr")
    assert a.number_values[:1] == [12.0]
    # An update through the bulk path, one through the single-contact path, a blank clearing.
    upsert(account, {"email": "b@example.fr", "fields": {"points": "7", "spent": ""}})
    contact_update(contact=a, data={"fields": {"points": "", "spent": "3.5"}}, proof=PROOF)
    assert_in_step(account)
    assert matching(account, {"all": [{"field": "fields.points", "op": "gt", "value": 5}]}) == {
        "b@example.fr"
    }


def test_import_keeps_the_arrays_in_step(account, custom_fields, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = "email;points;last_order\nx@example.fr;5;2024-01-31\ny@example.fr;;31/12/2023\n"
    contact_import = import_services.import_create(
        account=account, uploaded_file=SimpleUploadedFile("c.csv", content.encode())
    )
    import_services.import_configure(
        contact_import=contact_import, mapping=["email", "points", "last_order"]
    )
    import_services.import_start(contact_import=contact_import)
    assert (
        import_services.import_run(import_id=contact_import.pk).status == ContactImport.Status.DONE
    )
    assert_in_step(account)
    rules = {"all": [{"field": "fields.last_order", "op": "before", "value": "2024-01-01"}]}
    assert matching(account, rules) == {"y@example.fr"}


def test_type_changes_move_the_values(account):
    code = field_create(account=account, key="code", label="Code", type="text")
    upsert(account, {"email": "a@example.fr", "fields": {"code": "42"}}, {"email": "b@example.fr"})
    field_update(field=code, type="number")
    code.refresh_from_db()
    assert code.slot == 1
    assert_in_step(account)
    assert matching(account, {"all": [{"field": "fields.code", "op": "eq", "value": 42}]}) == {
        "a@example.fr"
    }
    field_update(field=code, type="text")
    code.refresh_from_db()
    assert code.slot is None
    assert_in_step(account)
    # The freed slot goes to the next number field, which nobody has a value of.
    age = field_create(account=account, key="age", label="Age", type="number")
    assert age.slot == 1
    assert matching(account, {"all": [{"field": "fields.age", "op": "is_not_empty"}]}) == set()


def test_a_deleted_fields_values_are_not_seen_by_the_field_taking_its_slot(account):
    old = field_create(account=account, key="old", label="Old", type="date")
    upsert(account, {"email": "a@example.fr", "fields": {"old": "2020-05-01"}})
    field_delete(field=old)
    new = field_create(account=account, key="new", label="New", type="date")
    assert new.slot == old.slot
    assert_in_step(account)
    rules = {"all": [{"field": "fields.new", "op": "before", "value": "2030-01-01"}]}
    assert matching(account, rules) == set()


def test_refresh_rewrites_stale_arrays(account, custom_fields):
    upsert(account, {"email": "a@example.fr", "fields": {"points": "3"}})
    Contact.objects.filter(account=account).update(number_values=[99.0])
    assert typed_values_refresh(account.pk) == 1
    assert_in_step(account)


def test_an_account_has_at_most_max_slots_fields_of_a_kind(account):
    ContactField.objects.bulk_create(
        ContactField(account=account, key=f"n{slot}", label=f"N{slot}", type="number", slot=slot)
        for slot in range(1, MAX_SLOTS + 1)
    )
    with pytest.raises(FieldError) as refused:
        field_create(account=account, key="one_more", label="One more", type="decimal")
    assert "type" in refused.value.errors
    # Other kinds are not affected.
    assert field_create(account=account, key="day", label="Day", type="date").slot == 1


def test_counts_with_lists_match_the_queryset(account, custom_fields):

    upsert(
        account,
        *[
            {"email": f"p{number}@example.fr", "fields": {"points": str(number * 10)}}
            for number in range(12)
        ],
    )
    customers = ContactListFactory(account=account, name="Clients")
    list_add_contacts(
        contact_list=customers,
        contact_ids=list(
            Contact.objects.filter(
                account=account, email__in=["p3@example.fr", "p9@example.fr"]
            ).values_list("pk", flat=True)
        ),
    )
    others = {f"p{number}@example.fr" for number in (6, 7, 8, 10, 11)}
    for op, expected in (("in_list", {"p9@example.fr"}), ("not_in_list", others)):
        rules = validate_rules(
            {
                "all": [
                    {"field": "fields.points", "op": "gt", "value": 50},
                    {"field": "list", "op": op, "value": customers.pk},
                ]
            },
            FieldCatalog.for_account(account),
            account,
        )
        assert set(segment_queryset(account, rules).values_list("email", flat=True)) == expected
        assert count_matching(account, rules) == len(expected)


def test_a_writer_with_an_old_layout_cannot_fill_a_reused_slot(account):
    """An import's cleaner outlives field changes: the layout is read again in each transaction,
    and a slot handed to a new field starts empty."""

    old = field_create(account=account, key="old", label="Old", type="number")
    cleaner = ContactCleaner(account)
    field_delete(field=old)
    new = field_create(account=account, key="new", label="New", type="number")
    assert new.slot == old.slot
    upsert(account, {"email": "a@example.fr", "fields": {"old": "99"}}, cleaner=cleaner)
    assert_in_step(account)
    assert matching(account, {"all": [{"field": "fields.new", "op": "is_not_empty"}]}) == set()


def test_a_field_created_during_an_import_keeps_its_values(account, custom_fields):

    cleaner = ContactCleaner(account)
    upsert(account, {"email": "a@example.fr"}, cleaner=cleaner)
    field_create(account=account, key="bonus", label="Bonus", type="number")
    upsert(account, {"email": "a@example.fr", "fields": {"bonus": "5"}})
    # The import goes on with the cleaner it started with.
    upsert(account, {"email": "a@example.fr", "fields": {"points": "2"}}, cleaner=cleaner)
    assert_in_step(account)
    assert matching(account, {"all": [{"field": "fields.bonus", "op": "eq", "value": 5}]}) == {
        "a@example.fr"
    }


def test_refresh_ignores_values_no_write_path_stores(account, custom_fields):
    upsert(account, {"email": "a@example.fr", "fields": {"points": "3"}})
    # Legacy data: a number as text, a date that is not ISO.
    Contact.objects.filter(account=account).update(
        fields={"points": "12", "last_order": "31/12/2024", "spent": True}
    )
    typed_values_refresh(account.pk)
    contact = Contact.objects.get(account=account)
    assert contact.number_values[:2] == [None, None]
    assert contact.date_values[:1] == [None]


def test_typed_values_survive_dumpdata_and_loaddata(account, custom_fields):

    upsert(
        account, {"email": "a@example.fr", "fields": {"points": "3", "last_order": "2024-05-01"}}
    )
    dumped = serializers.serialize("json", Contact.objects.filter(account=account))
    (loaded,) = serializers.deserialize("json", dumped)
    assert loaded.object.number_values[:1] == [3.0]
    assert str(loaded.object.date_values[0]) == "2024-05-01"


@requires_postgres
def test_count_planner_settings_do_not_outlive_the_count(account, custom_fields):

    customers = ContactListFactory(account=account, name="Clients")
    rules = validate_rules(
        {"all": [{"field": "list", "op": "in_list", "value": customers.pk}]},
        FieldCatalog.for_account(account),
        account,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        assert count_matching(account, rules) == 0
        cursor.execute("SHOW enable_hashjoin")
        assert cursor.fetchone()[0] == "on"
