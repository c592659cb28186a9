"""Inbound SMS: a STOP (Twilio's inbound webhook, SMPP MO) suppresses the number at once, with
its proof in the consent ledger, counted on the campaign; other replies are kept."""

from datetime import UTC, datetime

import pytest

from contacts.models import Channel, ConsentRecord, Contact, Suppression, address_hash
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert
from sms.backends.smpp import SmsBackend
from sms.inbound import is_stop, stop_count
from sms.models import SmsMessage, SmsReply
from sms.twilio_simulator import TwilioSimulator
from tests.factories import AccountFactory, ContactFactory
from tests.sms.factories import SmsCampaignFactory, SmsSenderFactory
from tests.sms.smpp_server import SmppServer, smpp_settings

TOKEN = "test-auth-token"
BASE = "https://sendethic.example"
INBOUND = "/sms/hooks/twilio/inbound/"
MOBILE = "+33612345678"


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOP!!",
        "«STOP»",
        "ARRET",
        "ARRÊT",
        "arrêt",
        "Arret.",
        "STOP SMS",
        "stop   sms",
        "Stop-SMS",
        "UNSUBSCRIBE",
        "unsubscribe",
        "DESABONNER",
        "Désabonner",
        "DÉSABONNER !",
        "\nstop\n",
    ],
)
def test_stop_words(text):
    assert is_stop(text)


@pytest.mark.parametrize(
    "text", ["", "Merci", "STOPPER", "Non stop", "stop please ça va", "ARRETE", "stopp", "🛑"]
)
def test_not_stop_words(text):
    assert not is_stop(text)


def sent_sms(account, mobile=MOBILE, *, at=None, contact=None):
    """A campaign of `account` that sent one SMS to `mobile`."""
    contact = contact or ContactFactory(
        account=account, mobile=mobile, sms_status="subscribed", email_status="subscribed"
    )
    campaign = SmsCampaignFactory(account=account, status="finished")
    return SmsMessage.objects.create(
        campaign=campaign,
        contact=contact,
        mobile=mobile,
        status="sent",
        sent_at=at or datetime.now(UTC),
        message_id=f"SM{campaign.pk:032x}",
    )


@pytest.fixture
def signer(settings):
    settings.PUBLIC_BASE_URL = BASE
    settings.TWILIO_AUTH_TOKEN = TOKEN
    simulator = TwilioSimulator(auth_token=TOKEN)
    simulator.server.server_close()
    return simulator


def inbound(client, signer, body, *, sid="SM" + "1" * 32, sender=MOBILE, signature=None):
    form = {"MessageSid": sid, "From": sender, "To": "+33700000000", "Body": body}
    headers = {"X-Twilio-Signature": signature or signer.signature(BASE + INBOUND, form)}
    return client.post(INBOUND, form, headers=headers)


@pytest.mark.django_db
def test_a_stop_reply_suppresses_the_number_at_once_with_its_proof(client, signer, account):
    message = sent_sms(account)
    contact = message.contact

    response = inbound(client, signer, "Stop.")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    contact.refresh_from_db()
    assert contact.sms_status == "unsubscribed"
    assert contact.email_status == "subscribed"  # an SMS STOP is about SMS
    assert Suppression.objects.filter(
        account=account,
        channel=Channel.SMS,
        address_hash=address_hash(MOBILE),
        reason="unsubscribed",
    ).exists()
    record = ConsentRecord.objects.get(contact=contact, channel=Channel.SMS)
    assert record.status == "unsubscribed"
    assert record.source == ConsentRecord.Source.SMS_REPLY == "sms_reply"
    assert record.wording == "Stop."
    assert record.actor == "twilio:SM" + "1" * 32
    assert record.form.startswith("SMS reply to +33700000000, received 20")
    reply = SmsReply.objects.get()
    assert (reply.account, reply.campaign, reply.contact, reply.is_stop) == (
        account,
        message.campaign,
        contact,
        True,
    )
    assert stop_count(message.campaign) == 1


@pytest.mark.django_db
def test_a_webhook_delivered_twice_is_one_reply_and_one_ledger_entry(client, signer, account):
    message = sent_sms(account)

    inbound(client, signer, "ARRÊT")
    inbound(client, signer, "ARRÊT")

    assert SmsReply.objects.count() == 1
    assert ConsentRecord.objects.filter(contact=message.contact, channel="sms").count() == 1
    assert stop_count(message.campaign) == 1


@pytest.mark.django_db
def test_the_stop_goes_to_the_account_that_wrote_last(client, signer, account):
    other = AccountFactory()
    earlier = sent_sms(other, at=datetime(2025, 6, 1, tzinfo=UTC))
    latest = sent_sms(account, at=datetime(2025, 6, 9, tzinfo=UTC))

    inbound(client, signer, "STOP")

    assert stop_count(latest.campaign) == 1 and stop_count(earlier.campaign) == 0
    earlier.contact.refresh_from_db()
    latest.contact.refresh_from_db()
    assert latest.contact.sms_status == "unsubscribed"
    assert earlier.contact.sms_status == "subscribed"
    assert not Suppression.objects.filter(account=other).exists()


@pytest.mark.django_db
def test_another_reply_is_kept_for_the_account_and_changes_no_consent(client, signer, account):
    message = sent_sms(account)

    inbound(client, signer, "Merci, à samedi !")

    reply = SmsReply.objects.get()
    assert (reply.account, reply.text, reply.is_stop) == (account, "Merci, à samedi !", False)
    message.contact.refresh_from_db()
    assert message.contact.sms_status == "subscribed"
    assert not Suppression.objects.exists()
    assert stop_count(message.campaign) == 0


@pytest.mark.django_db
def test_a_reply_from_a_number_nobody_wrote_to_is_kept_without_an_account(client, signer):
    inbound(client, signer, "STOP", sender="+33699999999")

    reply = SmsReply.objects.get()
    assert reply.account is None and reply.is_stop
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_a_badly_signed_inbound_webhook_is_refused(client, signer, account):
    sent_sms(account)

    response = inbound(client, signer, "STOP", signature="bm90IGEgc2lnbmF0dXJl")

    assert response.status_code == 403
    assert not SmsReply.objects.exists() and not Suppression.objects.exists()


@pytest.mark.django_db
def test_an_import_never_subscribes_a_stopped_number_again(client, signer, account):
    message = sent_sms(account)
    inbound(client, signer, "STOP")

    contacts_bulk_upsert(
        account=account,
        rows=[{"email": message.contact.email, "mobile": MOBILE, "sms_status": "subscribed"}],
        proof=ConsentProof(source=ConsentRecord.Source.IMPORT),
    )

    contact = Contact.objects.get(pk=message.contact.pk)
    assert contact.sms_status == "unsubscribed"


@pytest.mark.django_db
def test_an_smpp_mo_stop_in_ucs2_and_a_gsm7_reply(settings, account):
    message = sent_sms(account)
    with SmppServer() as smsc:
        smpp_settings(settings, smsc)
        backend = SmsBackend()
        backend.open()
        smsc.send_mo("33612345678", "36180", "ARRÊT".encode("utf-16-be"), data_coding=8)
        smsc.send_mo("33612345678", "36180", b"A tr\x04s vite \x00 Paris")  # GSM-7: è 0x04, @ 0x00
        backend.close()  # what came on the session is written, then acknowledged
        assert smsc.wait(lambda: len(smsc.deliver_sm_resps) == 2)

    replies = {reply.text: reply for reply in SmsReply.objects.all()}
    assert set(replies) == {"ARRÊT", "A très vite @ Paris"}
    assert replies["ARRÊT"].is_stop and replies["ARRÊT"].provider == "smpp"
    assert replies["ARRÊT"].to == "36180"
    message.contact.refresh_from_db()
    assert message.contact.sms_status == "unsubscribed"
    assert stop_count(message.campaign) == 1


@pytest.mark.django_db
def test_a_reply_to_an_accounts_own_number_is_that_accounts(client, signer, account):
    other = AccountFactory()
    own = sent_sms(account, at=datetime(2025, 6, 1, tzinfo=UTC))
    own.campaign.sender = SmsSenderFactory(account=account, value="+33700000000")
    own.campaign.save()
    later_elsewhere = sent_sms(other, at=datetime(2025, 6, 9, tzinfo=UTC))

    inbound(client, signer, "STOP")  # to +33700000000

    assert stop_count(own.campaign) == 1 and stop_count(later_elsewhere.campaign) == 0
    assert SmsReply.objects.get().account == account


def udh8(reference, total, number):
    return bytes((5, 0x00, 3, reference, total, number))


def test_the_concatenation_element_is_read_in_both_reference_sizes():
    from sms.backends import smpp_wire as wire

    assert wire.concatenation(udh8(7, 3, 2)) == wire.Concatenation(7, 3, 2)
    sixteen = bytes((6, 0x08, 4, 0x12, 0x34, 2, 1))
    assert wire.concatenation(sixteen) == wire.Concatenation(0x1234, 2, 1)
    # another element first (a port address), then the concatenation
    ports = bytes((11, 0x05, 4, 0, 1, 0, 2, 0x00, 3, 9, 2, 2))
    assert wire.concatenation(ports) == wire.Concatenation(9, 2, 2)
    assert wire.concatenation(b"") is None
    assert wire.concatenation(udh8(7, 2, 3)) is None  # part 3 of 2
    assert wire.concatenation(bytes((5, 0x00, 3, 7))) is None  # cut short


@pytest.mark.django_db
def test_a_stop_in_two_smpp_parts_is_one_reply_once_both_came(settings, account):
    from sms.backends import smpp_wire as wire
    from sms.models import SmsReplyPart

    message = sent_sms(account)
    udhi = wire.ESM_CLASS_UDHI
    with SmppServer() as smsc:
        smpp_settings(settings, smsc)
        backend = SmsBackend()
        backend.open()
        # the second part first, then the first twice (a lost deliver_sm_resp); a part of
        # another long SMS from the same phone stays apart
        smsc.send_mo("33612345678", "36180", udh8(42, 2, 2) + b"P", esm_class=udhi)
        smsc.send_mo("33612345678", "36180", udh8(43, 2, 1) + b"Bonjour", esm_class=udhi)
        backend.close()
        assert smsc.wait(lambda: len(smsc.deliver_sm_resps) == 2)
        assert not SmsReply.objects.exists()
        backend.open()
        smsc.send_mo("33612345678", "36180", udh8(42, 2, 1) + b"STO", esm_class=udhi)
        smsc.send_mo("33612345678", "36180", udh8(42, 2, 1) + b"STO", esm_class=udhi)
        backend.close()
        assert smsc.wait(lambda: len(smsc.deliver_sm_resps) == 4)

    reply = SmsReply.objects.get()
    assert (reply.text, reply.is_stop, reply.provider) == ("STOP", True, "smpp")
    message.contact.refresh_from_db()
    assert message.contact.sms_status == "unsubscribed"
    assert stop_count(message.campaign) == 1
    # the leftover duplicate part waits alone; the other SMS still waits for its part 2
    assert sorted(SmsReplyPart.objects.values_list("reference", "number")) == [(42, 1), (43, 1)]


@pytest.mark.django_db
def test_parts_of_a_long_reply_complete_once_and_stale_parts_give_way(account):
    from datetime import timedelta

    from sms.inbound import reply_part_received

    at = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)
    common = {"provider": "smpp", "mobile": MOBILE, "to": "36180", "reference": 5, "total": 2}
    # a part left from an SMS two hours ago with the same reference
    assert reply_part_received(**common, number=1, text="vieux ", received_at=at) is None
    later = at + timedelta(hours=2)
    assert reply_part_received(**common, number=2, text="suite", received_at=later) is None
    whole = reply_part_received(**common, number=1, text="Bonne ", received_at=later)
    assert whole.text == "Bonne suite" and not whole.is_stop
    assert SmsReply.objects.count() == 1
