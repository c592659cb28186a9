"""Property: an address that unsubscribed from all email is never in a frozen audience again.

Hypothesis runs random sequences of what happens to a contact base: contacts created and
re-imported with opt-in (one by one, in bulk, through the import wizard's services), consent
changed through the API's service, list additions, unsubscribes (one-click, the unsubscribe
page, a complaint), erasure, double opt-in requests and confirmations, and campaigns started.
A model keeps the set of addresses that opted out; only the person's own double opt-in
confirmation takes an address out of it. After every step no opted-out address may be in a
campaign's audience, and every campaign started freezes none of them.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from campaigns import pipeline
from campaigns.models import Message
from campaigns.rendering import unsubscribe_token
from campaigns.services import CampaignNotReady, campaign_create, campaign_schedule
from contacts.imports.services import (
    import_configure,
    import_create,
    import_run,
    import_start,
)
from contacts.models import (
    Channel,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactList,
    ListMembership,
)
from contacts.services.consent import (
    ConsentProof,
    InvalidConfirmation,
    consent_change,
    contact_erase,
    double_optin_confirm,
    double_optin_request,
    double_optin_token,
)
from contacts.services.contacts import contact_update, contact_upsert, contacts_bulk_upsert
from contacts.services.lists import list_add_contacts
from contacts.services.segments import segment_create
from stats.services.events import record_complaint, record_unsubscribe
from tests.factories import AccountFactory, ContactListFactory, SenderAddressFactory

ADDRESSES = ("ana@example.com", "bob@example.com", "cyd@example.com")
OPT_IN = [ConsentStatus.SUBSCRIBED, ConsentStatus.SUBSCRIBED, ConsentStatus.SOFT_OPTIN]
SOURCES = [
    ConsentRecord.Source.API,
    ConsentRecord.Source.IMPORT,
    ConsentRecord.Source.UI,
    ConsentRecord.Source.FORM,
    ConsentRecord.Source.CONNECTOR,
]
HTML = '<p>Bonjour</p><p><a href="{{ unsubscribe_url }}">Se désinscrire</a></p>'

addresses = st.sampled_from(ADDRESSES)
# As people and files write them: any case, stray spaces.
spellings = st.sampled_from([str, str.upper, str.title, lambda text: f"  {text} "])
list_choices = st.sampled_from([None, 0, 1])

MACHINE_SETTINGS = hypothesis_settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class ContactBase(RuleBasedStateMachine):
    """One account's contacts, and the addresses that opted out of all email."""

    def __init__(self):
        super().__init__()
        # Each run in a savepoint, rolled back at the end: runs do not see each other's rows.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.account = AccountFactory()
        self.lists = [
            ContactListFactory(account=self.account, name=name) for name in ("Newsletter", "Offers")
        ]
        self.everyone = segment_create(
            account=self.account, name="Everyone", description="", rules={"all": []}
        )
        self.sender = SenderAddressFactory(
            account=self.account, email="news@boutique.fr", name="La Boutique"
        )
        self.opted_out: set[str] = set()
        self.confirmation_tokens: list[tuple[str, str]] = []
        self.client = Client(enforce_csrf_checks=True)

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------------

    def contact(self, address: str) -> Contact | None:
        return Contact.objects.filter(account=self.account, email=address).first()

    def messages(self) -> list[Message]:
        return list(
            Message.objects.filter(campaign__account=self.account)
            .select_related("campaign")
            .order_by("pk")
        )

    def target(self, choice: int | None) -> ContactList | None:
        return None if choice is None else self.lists[choice]

    def note_resubscription(self, address: str) -> None:
        if address in self.opted_out:
            event("an opted-out address is asked to subscribe again")

    # --- opt-in ----------------------------------------------------------------------------------

    @rule(
        address=addresses,
        spelling=spellings,
        status=st.sampled_from(OPT_IN),
        source=st.sampled_from(SOURCES),
    )
    def upsert(self, address, spelling, status, source):
        self.note_resubscription(address)
        contact_upsert(
            account=self.account,
            data={"email": spelling(address), "email_status": status},
            proof=ConsentProof(source=source, wording="Je m'abonne"),
        )

    @rule(
        chosen=st.lists(st.tuples(addresses, spellings), min_size=1, max_size=3),
        status=st.sampled_from(OPT_IN),
        into=list_choices,
    )
    def bulk_import(self, chosen, status, into):
        for address, _spelling in chosen:
            self.note_resubscription(address)
        contacts_bulk_upsert(
            account=self.account,
            rows=[{"email": spelling(address)} for address, spelling in chosen],
            proof=ConsentProof(source=ConsentRecord.Source.IMPORT, wording="Formulaire boutique"),
            default_statuses={Channel.EMAIL: status},
            target_list=self.target(into),
        )

    @rule(chosen=st.lists(addresses, min_size=1, max_size=3), into=list_choices)
    def file_import(self, chosen, into):
        for address in chosen:
            self.note_resubscription(address)
        content = ("email;first_name\n" + "".join(f"{item};Client\n" for item in chosen)).encode()
        contact_import = import_create(
            account=self.account, uploaded_file=SimpleUploadedFile("clients.csv", content)
        )
        import_configure(
            contact_import=contact_import,
            mapping=["email", "first_name"],
            target_list=self.target(into),
            email_status=ConsentStatus.SUBSCRIBED,
            consent_wording="Case cochée au passage en caisse",
        )
        import_start(contact_import=contact_import)
        import_run(import_id=contact_import.pk)

    @rule(
        address=addresses,
        status=st.sampled_from(OPT_IN),
        source=st.sampled_from([ConsentRecord.Source.API, ConsentRecord.Source.IMPORT]),
        through_update=st.booleans(),
    )
    def change_consent(self, address, status, source, through_update):
        contact = self.contact(address)
        if contact is None:
            return
        self.note_resubscription(address)
        proof = ConsentProof(source=source, wording="Oui, je veux recevoir les offres")
        if through_update:  # PATCH /contacts/<id>/ with email_status
            contact_update(contact=contact, data={"email_status": status}, proof=proof)
        else:  # POST /contacts/<id>/consent/
            consent_change(contact=contact, channel=Channel.EMAIL, status=status, proof=proof)

    @rule(address=addresses, into=st.sampled_from([0, 1]))
    def add_to_list(self, address, into):
        contact = self.contact(address)
        if contact is not None:
            list_add_contacts(contact_list=self.lists[into], contact_ids=[contact.pk])

    # --- double opt-in ---------------------------------------------------------------------------

    @rule(address=addresses)
    def request_double_optin(self, address):
        contact = self.contact(address)
        if contact is None:
            return
        contact = double_optin_request(
            contact=contact, proof=ConsentProof(source=ConsentRecord.Source.FORM)
        )
        if contact.email_status == ConsentStatus.PENDING:  # the confirmation email went out
            self.confirmation_tokens.append((address, double_optin_token(contact)))

    @precondition(lambda self: self.confirmation_tokens)
    @rule(data=st.data())
    def confirm_double_optin(self, data):
        address, token = data.draw(st.sampled_from(self.confirmation_tokens), label="token")
        try:
            double_optin_confirm(token=token, ip_address="203.0.113.7", user_agent="Firefox")
        except InvalidConfirmation:
            return  # the contact was erased since
        if address in self.opted_out:
            event("a double opt-in lifts an opt-out")
        self.opted_out.discard(address)

    # --- opt-out ---------------------------------------------------------------------------------

    @precondition(lambda self: Message.objects.filter(campaign__account=self.account).exists())
    @rule(data=st.data())
    def unsubscribe_one_click(self, data):
        message = data.draw(st.sampled_from(self.messages()), label="message")
        record_unsubscribe(message=message, source="one-click")
        self.opted_out.add(message.email)

    @precondition(lambda self: Message.objects.filter(campaign__account=self.account).exists())
    @rule(data=st.data(), how=st.sampled_from(["one-click", "all", "lists"]))
    def unsubscribe_page(self, data, how):
        message = data.draw(st.sampled_from(self.messages()), label="message")
        path = reverse("campaigns:unsubscribe", args=[unsubscribe_token(message)])
        if how == "one-click":
            form = {"List-Unsubscribe": "One-Click"}
        elif how == "all":
            form = {"scope": "all"}
        else:
            memberships = ListMembership.objects.filter(
                contact_id=message.contact_id, status=ListMembership.Status.SUBSCRIBED
            )
            form = {"scope": "lists", "lists": [m.contact_list_id for m in memberships]}

        response = self.client.post(path, form)

        if how == "lists":
            # Some lists only (or none chosen, refused): not an opt-out of all email.
            assert response.status_code == (200 if form["lists"] else 400)
        else:
            assert response.status_code == 200
            self.opted_out.add(message.email)

    @precondition(lambda self: Message.objects.filter(campaign__account=self.account).exists())
    @rule(data=st.data())
    def complain(self, data):
        message = data.draw(st.sampled_from(self.messages()), label="message")
        record_complaint(message=message, source="webhook:test")
        self.opted_out.add(message.email)

    @rule(address=addresses)
    def erase(self, address):
        contact = self.contact(address)
        if contact is not None:
            contact_erase(contact=contact, actor="dpo@boutique.fr")

    # --- sending ---------------------------------------------------------------------------------

    @initialize(chosen=st.lists(addresses, min_size=1, max_size=3, unique=True))
    def subscribers_and_a_first_campaign(self, chosen):
        contacts_bulk_upsert(
            account=self.account,
            rows=[{"email": address} for address in chosen],
            proof=ConsentProof(source=ConsentRecord.Source.FORM, wording="Newsletter"),
            default_statuses={Channel.EMAIL: ConsentStatus.SUBSCRIBED},
            target_list=self.lists[0],
        )
        self.send(lists=self.lists[:1], segments=[], excluded_lists=[])

    @rule(
        audience=st.sampled_from(["lists", "segment", "both"]),
        excluded=st.sampled_from([None, 0, 1]),
    )
    def start_campaign(self, audience, excluded):
        self.send(
            lists=self.lists if audience in {"lists", "both"} else [],
            segments=[self.everyone] if audience != "lists" else [],
            excluded_lists=[self.lists[excluded]] if excluded is not None else [],
        )

    def send(self, **audience):
        campaign = campaign_create(
            account=self.account,
            data={
                "name": "Soldes",
                "subject": "Les soldes",
                "sender": self.sender,
                "html": HTML,
                **audience,
            },
        )

        try:
            campaign_schedule(campaign=campaign, at=None)
        except CampaignNotReady as refused:
            # Only an audience of nobody may be refused here (the pre-send checklist).
            assert set(refused.fields) == {"lists"}, refused.fields
            assert not pipeline.audience(campaign).exists()
            event("a campaign with nobody to send to is refused")
            return

        frozen = set(Message.objects.filter(campaign=campaign).values_list("email", flat=True))
        assert not frozen & self.opted_out, f"sent to opted-out {frozen & self.opted_out}"
        if self.opted_out and frozen:
            event("a campaign is frozen after an opt-out")

    @invariant()
    def no_opted_out_address_may_be_sent_to(self):
        audience = pipeline.audience_for(
            self.account,
            lists=self.lists,
            segments=[self.everyone],
            excluded_lists=[],
            excluded_segments=[],
        )
        sendable = set(audience.values_list("email", flat=True))
        assert not sendable & self.opted_out, f"opted-out yet sendable: {sendable & self.opted_out}"


@pytest.mark.django_db
def test_an_unsubscribed_address_is_never_sent_a_marketing_message_again(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the import wizard's uploads
    run_state_machine_as_test(ContactBase, settings=MACHINE_SETTINGS)
