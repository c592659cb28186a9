"""contacts.services.bulk_write: what COPY writes reads back exactly (PostgreSQL's CSV path and
the ORM's elsewhere)."""

import datetime

import pytest

from contacts.models import Channel, ConsentRecord, ConsentStatus, Contact
from contacts.services.bulk_write import consent_records_insert, contacts_insert
from contacts.services.consent import ConsentProof

pytestmark = pytest.mark.django_db

AWKWARD = [
    "",
    'He said "bonjour", then left',
    "line one\nline two\r\nline three",
    "tab\there; comma, and semicolon;",
    "back\\slash \\. \\N \\t",
    "\\.",
    "Zoë Ñúñez — 東京 🙂",
    ",",
    '"',
]


def test_contacts_are_written_and_read_back_exactly(account):
    # given: awkward texts in every text column, an empty birth date, JSON custom values
    contacts = [
        Contact(
            account=account,
            key=f"c{index}@example.fr",
            email=f"c{index}@example.fr",
            first_name=text[:100],
            last_name=text[::-1][:100],
            city=text[:100],
            company=text,
            birth_date=None if index % 2 else datetime.date(1980, 2, 29),
            fields={"note": text, "quoted": {"nested": [text, None, 1.5]}},
            email_status=ConsentStatus.SUBSCRIBED,
        )
        for index, text in enumerate(AWKWARD)
    ]
    # when
    contacts_insert(contacts)
    # then
    for written in contacts:
        stored = Contact.objects.get(pk=written.pk)
        for name in ("key", "email", "first_name", "last_name", "city", "company", "birth_date"):
            assert getattr(stored, name) == getattr(written, name), name
        assert stored.fields == written.fields
        assert stored.zip_code == "" and stored.salutation == ""


def test_ledger_rows_are_written_with_their_proof(account):
    # given
    contact = Contact(account=account, key="zoe@example.fr", email="zoe@example.fr")
    contacts_insert([contact])
    proof = ConsentProof(
        source=ConsentRecord.Source.IMPORT,
        ip_address=None,
        user_agent='Agent "quoted", with a\nnewline',
        wording='J\'accepte, "vraiment"',
        form="",
    )
    # when
    consent_records_insert([(contact, Channel.EMAIL, ConsentStatus.SUBSCRIBED)], proof)
    # then
    record = ConsentRecord.objects.get(contact=contact)
    assert record.ip_address is None
    assert record.user_agent == proof.user_agent
    assert record.wording == proof.wording
    assert record.form == ""
    assert record.status == ConsentStatus.SUBSCRIBED
