"""The SMPP 3.4 backend against a loopback SMSC speaking the real PDUs (tests/sms/smpp_server.py)."""

import threading
from datetime import UTC, datetime

import pytest
import smpplib.consts as c

from campaigns.engine import sending
from campaigns.engine.channel import DeliveryInterrupted, Sent
from campaigns.engine.lifecycle import campaign_start
from contacts.models import Channel, Suppression, address_hash
from sms.backends import OutgoingSms
from sms.backends import smpp_wire as wire
from sms.backends.smpp import Receiver, SmsBackend
from sms.channel import SMS
from sms.encoding import count
from sms.models import SmsMessage, SmsMessagePart
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory
from tests.sms.smpp_server import SmppServer, smpp_settings


@pytest.fixture
def smsc(settings):
    with SmppServer() as server:
        smpp_settings(settings, server)
        yield server


@pytest.fixture
def campaign_to(account, clock):
    clock(datetime(2025, 6, 11, 9, 0, tzinfo=UTC))  # a Wednesday, 11:00 in Paris

    def make(*mobiles, text="Bonjour {{ first_name }}"):
        newsletter = ContactListFactory(account=account)
        for mobile in mobiles:
            contact = ContactFactory(
                account=account, mobile=mobile, first_name="Alice", sms_status="subscribed"
            )
            ListMembershipFactory(contact_list=newsletter, contact=contact)
        campaign = SmsCampaignFactory(account=account, lists=[newsletter], text=text)
        campaign_start(campaign=campaign)
        return campaign

    return make


def texts_of(submitted):
    """What the phones show: each submit decoded, the parts of a concatenated SMS joined."""
    whole = {}
    for sm in submitted:
        udh, data = wire.split_udh(sm.short_message, sm.esm_class)
        key = (sm.destination, udh[3] if udh else None)
        whole.setdefault(key, []).append(wire.decode_text(data, sm.data_coding))
    return {key: "".join(parts) for key, parts in whole.items()}


def statuses(campaign):
    return dict(SmsMessage.objects.filter(campaign=campaign).values_list("mobile", "status"))


def test_gsm7_text_goes_as_unpacked_septets_in_one_part():
    [part] = wire.parts_of("Prix: 10€ {promo} à Zürich", reference=1)

    assert part.data_coding == wire.DATA_CODING_GSM7 and part.esm_class == 0
    # € { } are escapes (0x1B + septet): 2 septets each; à and ü are in the default table.
    assert part.short_message.count(b"\x1b") == 3
    assert wire.gsm7_decode(part.short_message) == "Prix: 10€ {promo} à Zürich"


def test_a_long_gsm7_text_is_cut_as_billed_and_never_inside_an_escape():
    text = "a" * 152 + "€" + "b" * 100  # the escape would straddle 153
    parts = wire.parts_of(text, reference=77)

    assert len(parts) == count(text).segments == 2
    headers = [part.short_message[:6] for part in parts]
    assert headers == [bytes((5, 0, 3, 77, 2, 1)), bytes((5, 0, 3, 77, 2, 2))]
    assert all(part.esm_class == wire.ESM_CLASS_UDHI for part in parts)
    bodies = [part.short_message[6:] for part in parts]
    assert len(bodies[0]) == 152 and bodies[1].startswith(b"\x1b\x65")
    assert "".join(wire.gsm7_decode(body) for body in bodies) == text


def test_ucs2_is_cut_at_67_units_and_never_inside_a_surrogate_pair():
    text = "ê" * 66 + "😀" + "ô" * 40
    parts = wire.parts_of(text, reference=3)

    assert [part.data_coding for part in parts] == [wire.DATA_CODING_UCS2] * 2
    assert len(parts) == count(text).segments
    bodies = [part.short_message[6:] for part in parts]
    assert len(bodies[0]) == 66 * 2  # the pair moved whole to part 2
    assert "".join(body.decode("utf-16-be") for body in bodies) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id:0123456789 sub:001 dlvrd:001 submit date:2506111100 done date:2506111101 "
            "stat:DELIVRD err:000 text:Bonjour",
            wire.ReceiptText("0123456789", "DELIVRD", "000"),
        ),
        (
            "id:ab12 sub:001 dlvrd:000 submit date:2506111100 done date:2506111101 "
            "stat:UNDELIV err:0c1 Text:stat:DELIVRD",
            wire.ReceiptText("ab12", "UNDELIV", "0c1"),
        ),
        ("ID:7 STAT:expired ERR:", wire.ReceiptText("7", "EXPIRED", "")),
        ("Bonjour", None),
    ],
)
def test_receipt_text(text, expected):
    assert wire.parse_receipt_text(text) == expected


@pytest.mark.django_db
def test_a_campaign_goes_out_over_smpp_and_the_receipts_mark_it_delivered(smsc, campaign_to):
    campaign = campaign_to("+33612345678", "+33698765432")

    sending.send_batch(SMS, campaign.pk)

    assert smsc.binds == 1
    assert sorted(
        (sm.source, sm.source_ton, sm.destination, sm.dest_ton, sm.registered_delivery)
        for sm in smsc.submitted
    ) == [
        ("Boutique", c.SMPP_TON_ALNUM, "33612345678", c.SMPP_TON_INTL, 1),
        ("Boutique", c.SMPP_TON_ALNUM, "33698765432", c.SMPP_TON_INTL, 1),
    ]
    assert set(texts_of(smsc.submitted).values()) == {"Bonjour Alice\nSTOP au 36180"}
    messages = SmsMessage.objects.filter(campaign=campaign)
    assert {m.message_id for m in messages} == {sm.message_id for sm in smsc.submitted}
    assert all(m.status == "sent" for m in messages)
    # Both receipts came on the same session, acknowledged once written.
    assert [m.delivery for m in messages] == ["delivered", "delivered"]
    assert all(m.delivered_at is not None for m in messages)
    assert smsc.wait(lambda: len(smsc.deliver_sm_resps) == 2)
    assert {status for _seq, status in smsc.deliver_sm_resps} == {c.SMPP_ESME_ROK}


@pytest.mark.django_db
def test_a_long_ucs2_sms_goes_in_parts_and_is_delivered_when_every_part_is(smsc, campaign_to):
    text = "Offre spéciale pour vous {{ first_name }} : " + "ça coûte moins cher ! " * 8
    campaign = campaign_to("+33612345678", text=text)

    sending.send_batch(SMS, campaign.pk)

    message = SmsMessage.objects.get(campaign=campaign)
    parts = list(SmsMessagePart.objects.filter(message=message))
    assert message.segments == len(parts) == len(smsc.submitted) > 1
    assert [p.provider_id for p in parts] == [sm.message_id for sm in smsc.submitted]
    assert message.message_id == parts[0].provider_id
    assert {sm.data_coding for sm in smsc.submitted} == {wire.DATA_CODING_UCS2}
    assert {sm.short_message[3] for sm in smsc.submitted} == {message.pk % 256}
    [(_key, shown)] = texts_of(smsc.submitted).items()
    assert shown.startswith("Offre spéciale pour vous Alice : ça coûte")
    assert shown.endswith("\nSTOP au 36180")
    assert message.delivery == "delivered"
    assert {p.delivery for p in parts} == {"delivered"}


@pytest.mark.django_db
def test_a_part_of_a_long_sms_throttled_for_a_moment_is_tried_again_at_once(smsc, settings):
    backend = SmsBackend()
    backend.open()
    smsc_first = smsc.submitted

    class OnePartThrottled:
        pass

    # The first part goes; the SMSC then throttles the next submit once.
    original = smsc._on_submit_sm

    def throttle_second(session, pdu):
        if len(smsc_first) == 1 and not getattr(OnePartThrottled, "done", False):
            OnePartThrottled.done = True
            smsc.throttle_next(1)
        original(session, pdu)

    smsc._on_submit_sm = throttle_second
    outcome = backend.send(OutgoingSms(1, None, "", "+33612345678", "x" * 300, "GSM-7", 2))
    backend.close()

    assert isinstance(outcome, Sent)
    assert [sm.short_message[5] for sm in smsc.submitted] == [1, 2]


@pytest.mark.django_db
def test_throttling_is_retried_an_invalid_number_fails_and_is_suppressed(
    smsc, campaign_to, account
):
    campaign = campaign_to("+33600000088", "+33600000011", "+33612345678")

    sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {
        "+33600000088": "queued",
        "+33600000011": "bounced",
        "+33612345678": "sent",
    }
    throttled = SmsMessage.objects.get(campaign=campaign, mobile="+33600000088")
    assert throttled.next_attempt_at is not None and "Throttling" in throttled.error
    bounced = SmsMessage.objects.get(campaign=campaign, mobile="+33600000011")
    assert "Invalid Destination Address" in bounced.error
    assert Suppression.objects.filter(
        account=account, channel=Channel.SMS, address_hash=address_hash("+33600000011")
    ).exists()


@pytest.mark.django_db
def test_an_undeliverable_receipt_fails_the_message_with_the_smscs_reason(smsc, campaign_to):
    campaign = campaign_to("+33600000055", "+33600000066")

    sending.send_batch(SMS, campaign.pk)

    undelivered = SmsMessage.objects.get(campaign=campaign, mobile="+33600000055")
    assert undelivered.status == "sent"
    assert undelivered.delivery == "failed"
    assert undelivered.delivery_code == "UNDELIV err:001"
    assert undelivered.delivery_reason == "undeliverable"
    awaiting = SmsMessage.objects.get(campaign=campaign, mobile="+33600000066")
    assert awaiting.delivery == "" and awaiting.delivered_at is None


@pytest.mark.django_db
def test_an_smsc_system_error_puts_the_batch_back(smsc, campaign_to):
    campaign = campaign_to("+33600000008", "+33612345678")

    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {"+33600000008": "queued", "+33612345678": "queued"}


@pytest.mark.django_db
def test_a_refused_bind_leaves_the_batch_queued(smsc, campaign_to, settings):
    settings.SMPP_PASSWORD = "wrong"
    campaign = campaign_to("+33612345678")

    with pytest.raises(DeliveryInterrupted, match="Invalid Password|0x0000000E|14"):
        sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {"+33612345678": "queued"}
    assert smsc.submitted == []


@pytest.mark.django_db
def test_an_idle_session_is_kept_alive_with_enquire_link(smsc, settings):
    settings.SMPP_ENQUIRE_LINK_SECONDS = 0
    backend = SmsBackend()
    backend.open()
    for n in range(3):
        backend.send(OutgoingSms(1, None, "+33700000000", f"+3361234567{n}", "hi", "GSM-7", 1))
    backend.close()

    assert smsc.enquire_links == 3 + 1  # before each send, and the round trip of the close
    assert [sm.source_ton for sm in smsc.submitted] == [c.SMPP_TON_INTL] * 3


@pytest.mark.django_db
def test_a_receipt_for_an_unknown_message_is_refused_so_the_smsc_retries(smsc):
    backend = SmsBackend()
    backend.open()
    backend.send(OutgoingSms(1, None, "", "+33600000066", "hi", "GSM-7", 1))
    smsc.send_receipt(smsc.bound_session(), "ffff", "33600000066", "DELIVRD")
    backend.send(OutgoingSms(1, None, "", "+33600000066", "hi", "GSM-7", 1))
    backend.close()

    assert smsc.wait(lambda: len(smsc.deliver_sm_resps) == 1)
    assert smsc.deliver_sm_resps[0][1] == c.SMPP_ESME_RX_T_APPN


@pytest.mark.django_db
def test_a_receipt_writing_the_id_in_decimal_finds_the_message(smsc, campaign_to):
    smsc.receipts = False
    campaign = campaign_to("+33612345678")
    sending.send_batch(SMS, campaign.pk)
    message = SmsMessage.objects.get(campaign=campaign)
    smsc.receipts = True

    backend = SmsBackend()
    backend.open()
    decimal = str(int(message.message_id, 16))
    smsc.send_receipt(smsc.bound_session(), decimal, "33612345678", "DELIVRD", tlvs=False)
    backend.send(OutgoingSms(1, None, "", "+33600000066", "hi", "GSM-7", 1))
    backend.close()

    message.refresh_from_db()
    assert message.delivery == "delivered"


@pytest.mark.django_db(transaction=True)
def test_the_receiver_writes_what_comes_between_batches_and_binds_again_after_a_cut(
    smsc, campaign_to
):
    smsc.receipts = False
    campaign = campaign_to("+33612345678", "+33698765432")
    sending.send_batch(SMS, campaign.pk)
    first, second = SmsMessage.objects.filter(campaign=campaign)
    stop = threading.Event()
    receiver = Receiver(stop=stop)
    thread = threading.Thread(target=receiver.run, daemon=True)
    thread.start()
    try:
        assert smsc.wait(lambda: any(s.bound for s in smsc.sessions))
        smsc.send_receipt(smsc.bound_session(), first.message_id, "33612345678", "DELIVRD")
        assert smsc.wait(lambda: receiver.handled == 1)
        smsc.stop()  # the SMSC goes away, then comes back on the same port
        smsc.start()
        assert smsc.wait(lambda: any(s.bound for s in smsc.sessions), timeout=10)
        smsc.send_receipt(smsc.bound_session(), second.message_id, "33698765432", "EXPIRED", "0fe")
        assert smsc.wait(lambda: receiver.handled == 2)
    finally:
        stop.set()
        thread.join(timeout=5)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.delivery, second.delivery) == ("delivered", "failed")
    assert second.delivery_code == "EXPIRED err:0fe"
    assert second.delivery_reason == "validity period expired before delivery"
    assert [status for _seq, status in smsc.deliver_sm_resps] == [c.SMPP_ESME_ROK] * 2


@pytest.mark.django_db
def test_a_throttled_session_slows_down_until_the_smsc_accepts_again(smsc):
    backend = SmsBackend()
    backend.open()
    pauses = []
    for mobile in ("+33600000088", "+33600000088", "+33600000088", "+33612345678"):
        pauses.append(backend.throttle_pause)
        backend.send(OutgoingSms(1, None, "", mobile, "hi", "GSM-7", 1))
    pauses.append(backend.throttle_pause)
    backend.close()

    assert pauses == [0.0, 0.05, 0.1, 0.2, 0.0]


@pytest.mark.django_db
def test_a_long_sms_sent_again_names_the_parts_of_its_latest_try(smsc, campaign_to):
    smsc.receipts = False
    campaign = campaign_to("+33612345678")
    message = SmsMessage.objects.get(campaign=campaign)
    sms = OutgoingSms(campaign.account_id, message.pk, "", message.mobile, "x" * 200, "GSM-7", 2)
    backend = SmsBackend()
    backend.open()
    backend.send(sms)  # a worker that died before recording it…
    backend.send(sms)  # …and the one that sent it again
    backend.close()

    latest = [sm.message_id for sm in smsc.submitted[2:]]
    assert list(message.parts.values_list("provider_id", flat=True)) == latest


def test_a_missing_smpp_setting_says_which(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SMPP_HOST = ""
    with pytest.raises(ImproperlyConfigured, match="SMPP_HOST"):
        SmsBackend()


@pytest.mark.parametrize(
    ("data", "data_coding", "text"),
    [
        (b"STOP", wire.DATA_CODING_GSM7, "STOP"),
        (b"STOP", wire.DATA_CODING_IA5, "STOP"),
        ("ARRÊT".encode("latin-1"), wire.DATA_CODING_LATIN1, "ARRÊT"),
        ("ARRÊT".encode("utf-16-be"), wire.DATA_CODING_UCS2, "ARRÊT"),
        (b"\x1b\x65 5", wire.DATA_CODING_GSM7, "€ 5"),
    ],
)
def test_inbound_text_in_each_data_coding(data, data_coding, text):
    assert wire.decode_text(data, data_coding) == text
