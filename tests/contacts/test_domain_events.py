"""The contact base's domain events: each sent once, after the write commits, never on rollback."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from contacts.imports.services import import_configure, import_create, import_run, import_start
from contacts.models import ConsentRecord, Contact, ContactImport
from contacts.services.consent import ConsentProof, consent_change
from contacts.services.contacts import contact_update, contact_upsert, contacts_bulk_upsert
from contacts.signals import (
    contact_created,
    contact_unsubscribed,
    contact_updated,
    import_finished,
)

pytestmark = pytest.mark.django_db

PROOF = ConsentProof(source=ConsentRecord.Source.API)
SIGNALS = {
    "created": contact_created,
    "updated": contact_updated,
    "unsubscribed": contact_unsubscribed,
    "import_finished": import_finished,
}


@pytest.fixture
def heard():
    """The events received, as (name, payload without the signal and sender)."""
    events = []
    receivers = {}
    for name, signal in SIGNALS.items():

        def receiver(signal, sender, name=name, **payload):
            events.append((name, payload))

        receivers[name] = receiver
        signal.connect(receiver)
    yield events
    for name, signal in SIGNALS.items():
        signal.disconnect(receivers[name])


def test_a_created_contact_is_announced_once_after_commit(
    account, heard, django_capture_on_commit_callbacks
):
    # given / when
    with django_capture_on_commit_callbacks() as callbacks:
        contact, created = contact_upsert(
            account=account, data={"email": "zoe@example.fr"}, proof=PROOF
        )
        # then: nothing before the commit
        assert created and heard == []
    for callback in callbacks:
        callback()
    assert heard == [
        ("created", {"account_id": account.pk, "contact_id": contact.pk, "source": "api"})
    ]


def test_updates_are_announced_once_and_unchanged_contacts_not_at_all(
    account, heard, django_capture_on_commit_callbacks
):
    # given
    contact, _ = contact_upsert(account=account, data={"email": "zoe@example.fr"}, proof=PROOF)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        contact_upsert(account=account, data={"email": "zoe@example.fr"}, proof=PROOF)
        contact_update(contact=contact, data={"city": "Lyon"}, proof=PROOF)
    # then
    assert heard == [
        ("updated", {"account_id": account.pk, "contact_id": contact.pk, "source": "api"})
    ]


def test_bulk_writes_announce_each_contact(account, heard, django_capture_on_commit_callbacks):
    # given
    existing, _ = contact_upsert(account=account, data={"email": "old@example.fr"}, proof=PROOF)
    rows = [
        {"email": "new@example.fr"},
        {"email": "old@example.fr", "city": "Paris"},
        {"email": "not an address"},
        {"email": "new@example.fr", "city": "Nice"},  # the same contact again: one event
    ]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = contacts_bulk_upsert(account=account, rows=rows, proof=PROOF)
    # then
    new = outcomes[0].contact
    assert sorted((name, payload["contact_id"]) for name, payload in heard) == sorted(
        [("created", new.pk), ("updated", existing.pk)]
    )


def test_an_unsubscription_is_announced_with_its_channel(
    account, heard, django_capture_on_commit_callbacks
):
    # given
    contact, _ = contact_upsert(
        account=account,
        data={"email": "zoe@example.fr", "email_status": "subscribed"},
        proof=PROOF,
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        consent_change(contact=contact, channel="email", status="unsubscribed", proof=PROOF)
        # Already unsubscribed: nothing changes, nothing is announced.
        consent_change(contact=contact, channel="email", status="unsubscribed", proof=PROOF)
    # then
    assert heard == [
        (
            "unsubscribed",
            {
                "account_id": account.pk,
                "contact_id": contact.pk,
                "channel": "email",
                "source": "api",
            },
        )
    ]


def test_a_bulk_unsubscription_is_announced(account, heard, django_capture_on_commit_callbacks):
    # given
    contact, _ = contact_upsert(
        account=account,
        data={"email": "zoe@example.fr", "email_status": "subscribed"},
        proof=PROOF,
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        contacts_bulk_upsert(
            account=account,
            rows=[{"email": "zoe@example.fr", "email_status": "unsubscribed"}],
            proof=PROOF,
        )
    # then
    assert [name for name, _payload in heard] == ["updated", "unsubscribed"]
    assert heard[1][1]["channel"] == "email"


def test_nothing_is_announced_when_the_write_rolls_back(
    account, heard, django_capture_on_commit_callbacks
):
    # given
    contact, _ = contact_upsert(
        account=account,
        data={"email": "zoe@example.fr", "email_status": "subscribed"},
        proof=PROOF,
    )
    # when
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        contact_upsert(account=account, data={"email": "new@example.fr"}, proof=PROOF)
        contact_update(contact=contact, data={"city": "Lyon"}, proof=PROOF)
        consent_change(contact=contact, channel="email", status="unsubscribed", proof=PROOF)
        raise RuntimeError("rolled back")
    # then
    assert callbacks == [] and heard == []
    assert not Contact.objects.filter(email="new@example.fr").exists()


def test_an_import_is_announced_once_when_done_and_not_per_contact(
    account, heard, django_capture_on_commit_callbacks
):
    # given
    content = b"email;city\r\nzoe@example.fr;Paris\r\npaul@example.fr;Lyon\r\nnot an address;X\r\n"
    contact_import = import_create(
        account=account, uploaded_file=SimpleUploadedFile("contacts.csv", content)
    )
    import_configure(contact_import=contact_import, mapping=contact_import.mapping)
    import_start(contact_import=contact_import)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        done = import_run(import_id=contact_import.pk)
    # then
    assert done.status == ContactImport.Status.DONE
    assert heard == [
        (
            "import_finished",
            {
                "account_id": account.pk,
                "import_id": contact_import.pk,
                "created": 2,
                "updated": 0,
                "skipped": 0,
                "errors": 1,
            },
        )
    ]


def test_a_bulk_write_registers_one_commit_callback_not_one_per_contact(
    account, heard, django_capture_on_commit_callbacks
):
    # given
    rows = [{"email": f"bulk{index}@example.fr"} for index in range(50)]
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        outcomes = contacts_bulk_upsert(account=account, rows=rows, proof=PROOF)
    # then: one callback, which announces every contact in order
    assert len(callbacks) == 1
    callbacks[0]()
    assert [payload["contact_id"] for _name, payload in heard] == [o.contact.pk for o in outcomes]
