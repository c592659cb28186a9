"""Delivery receipts: Twilio's status callbacks (signed webhooks, from the loopback simulator
to a live server) and the rules every receipt follows (SMPP's too: tests/sms/test_smpp.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.engine import journal, sending
from campaigns.engine.lifecycle import campaign_start
from campaigns.signals import message_bounced, message_delivered
from contacts.models import Channel, Suppression, address_hash
from sms.channel import SMS
from sms.models import SmsMessage, SmsMessagePart
from sms.receipts import Receipt, delivery_counts, receipt_apply
from sms.twilio_simulator import TwilioSimulator
from sms.webhooks import twilio_signature
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory

TOKEN = "test-auth-token"
BASE = "https://sendethic.example"
STATUS_URL = f"{BASE}/sms/hooks/twilio/status/"


def test_the_signature_is_twilios_documented_example():
    # Twilio's "Secure webhooks" example: auth token 12345, this URL and these parameters.
    from django.http import QueryDict

    params = QueryDict(mutable=True)
    for name, value in {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }.items():
        params[name] = value

    signature = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)

    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def make_campaign(account, *mobiles):
    newsletter = ContactListFactory(account=account)
    for mobile in mobiles:
        contact = ContactFactory(account=account, mobile=mobile, sms_status="subscribed")
        ListMembershipFactory(contact_list=newsletter, contact=contact)
    campaign = SmsCampaignFactory(account=account, lists=[newsletter], text="Soldes !")
    campaign_start(campaign=campaign)
    return campaign


@pytest.fixture
def twilio(settings):
    with TwilioSimulator(auth_token=TOKEN, callbacks=True) as simulator:
        settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
        settings.TWILIO_ACCOUNT_SID = simulator.account_sid
        settings.TWILIO_AUTH_TOKEN = TOKEN
        settings.TWILIO_API_URL = simulator.url
        yield simulator


@pytest.mark.django_db(transaction=True)
def test_twilios_status_callbacks_reach_the_messages(twilio, live_server, settings, account, clock):
    settings.PUBLIC_BASE_URL = live_server.url
    clock(datetime(2025, 6, 11, 9, 0, tzinfo=UTC))  # a Wednesday, 11:00 in Paris
    campaign = make_campaign(account, "+33612345678", "+33600000305", "+33600000303")

    sending.send_batch(SMS, campaign.pk)
    twilio.callbacks_sent()

    # sent, then the final status, for each: all accepted
    assert [status for _url, _form, status in twilio.callback_answers] == [204] * 6
    messages = {m.mobile: m for m in SmsMessage.objects.filter(campaign=campaign)}
    delivered = messages["+33612345678"]
    assert delivered.delivery == "delivered" and delivered.delivered_at is not None
    unknown = messages["+33600000305"]
    assert (unknown.delivery, unknown.delivery_code, unknown.delivery_reason) == (
        "failed",
        "undelivered 30005",
        "Unknown destination handset",
    )
    unreachable = messages["+33600000303"]
    assert unreachable.delivery_reason == "Unreachable destination handset"
    # A number the network does not know is suppressed; one out of reach for now is not.
    suppressed = set(
        Suppression.objects.filter(account=account, channel=Channel.SMS).values_list(
            "address_hash", flat=True
        )
    )
    assert suppressed == {address_hash("+33600000305")}
    assert delivery_counts(campaign) == {"delivered": 1, "failed": 2, "awaiting": 0}


@pytest.fixture
def sent_message(account, settings):
    settings.PUBLIC_BASE_URL = BASE
    settings.TWILIO_AUTH_TOKEN = TOKEN
    campaign = make_campaign(account, "+33612345678")
    message = SmsMessage.objects.get(campaign=campaign)
    message.status, message.message_id = "sent", "SM" + "a" * 32
    message.sent_at = datetime.now(UTC)
    message.save()
    return message


def post_status(client, form, *, url=STATUS_URL, token=TOKEN, signature=None):
    signer = TwilioSimulator(auth_token=token)
    signer.server.server_close()
    headers = {"X-Twilio-Signature": signature or signer.signature(url, form)}
    return client.post("/sms/hooks/twilio/status/", form, headers=headers)


def status_form(message, status, code=None):
    form = {"MessageSid": message.message_id, "MessageStatus": status, "To": message.mobile}
    if code:
        form["ErrorCode"] = code
    return form


@pytest.mark.django_db
def test_a_repeated_receipt_changes_nothing(client, sent_message):
    assert post_status(client, status_form(sent_message, "delivered")).status_code == 204
    sent_message.refresh_from_db()
    first = sent_message.delivered_at

    assert post_status(client, status_form(sent_message, "delivered")).status_code == 204

    sent_message.refresh_from_db()
    assert sent_message.delivery == "delivered" and sent_message.delivered_at == first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no signature"),
        ({"token": "another-token"}, "another account's token"),
        ({"url": "https://elsewhere.example/sms/hooks/twilio/status/"}, "signed for another URL"),
        ({"signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, "a signature of something else"),
    ],
)
def test_a_badly_signed_callback_is_refused_and_changes_nothing(client, sent_message, headers, why):
    form = status_form(sent_message, "delivered")
    if not headers:
        response = client.post("/sms/hooks/twilio/status/", form)
    else:
        response = post_status(client, form, **headers)

    assert response.status_code == 403, why
    sent_message.refresh_from_db()
    assert sent_message.delivery == ""


@pytest.mark.django_db
def test_a_tampered_parameter_breaks_the_signature(client, sent_message):
    form = status_form(sent_message, "undelivered", "30005")
    signature = TwilioSimulator(auth_token=TOKEN)
    signature.server.server_close()
    signed = signature.signature(STATUS_URL, form)

    response = client.post(
        "/sms/hooks/twilio/status/",
        {**form, "MessageStatus": "delivered"},
        headers={"X-Twilio-Signature": signed},
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_only_post_is_accepted(client):
    assert client.get("/sms/hooks/twilio/status/").status_code == 405


@pytest.mark.django_db
def test_intermediate_statuses_and_unknown_messages_change_nothing(client, sent_message):
    for status in ("queued", "sending", "sent", "accepted"):
        assert post_status(client, status_form(sent_message, status)).status_code == 204
    unknown = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    assert post_status(client, unknown).status_code == 204

    sent_message.refresh_from_db()
    assert sent_message.delivery == ""


@pytest.mark.django_db
def test_a_late_delivered_replaces_a_failure_and_nothing_replaces_delivered(client, sent_message):
    post_status(client, status_form(sent_message, "undelivered", "30003"))
    sent_message.refresh_from_db()
    assert (sent_message.delivery, sent_message.delivery_reason) == (
        "failed",
        "Unreachable destination handset",
    )

    post_status(client, status_form(sent_message, "delivered"))
    post_status(client, status_form(sent_message, "failed", "30008"))

    sent_message.refresh_from_db()
    assert sent_message.delivery == "delivered"
    assert (sent_message.delivery_code, sent_message.delivery_reason) == ("", "")


@pytest.mark.django_db
def test_a_second_failure_keeps_the_first_reason(sent_message):
    at = datetime.now(UTC)
    receipt_apply(Receipt(sent_message.message_id, "failed", at, "EXPIRED err:000", "expired"))
    receipt_apply(Receipt(sent_message.message_id, "failed", at, "UNDELIV err:001", "undeliv"))

    sent_message.refresh_from_db()
    assert sent_message.delivery_code == "EXPIRED err:000"


@pytest.mark.django_db
def test_a_concatenated_sms_is_delivered_when_every_part_is_and_failed_when_one_fails(
    sent_message,
):
    for number, provider_id in enumerate([sent_message.message_id, "p2", "p3"], 1):
        SmsMessagePart.objects.create(message=sent_message, number=number, provider_id=provider_id)
    at = datetime.now(UTC)

    receipt_apply(Receipt(sent_message.message_id, "delivered", at))
    receipt_apply(Receipt("p2", "delivered", at))
    sent_message.refresh_from_db()
    assert sent_message.delivery == ""  # part 3 still on its way

    receipt_apply(Receipt("p3", "failed", at, "UNDELIV err:001", "undeliverable"))
    sent_message.refresh_from_db()
    assert (sent_message.delivery, sent_message.delivery_code) == ("failed", "UNDELIV err:001")

    # the network delivers part 3 after all: the whole text reached the phone
    receipt_apply(Receipt("p3", "delivered", at + timedelta(minutes=5)))
    receipt_apply(Receipt("p3", "delivered", at + timedelta(minutes=9)))  # again
    sent_message.refresh_from_db()
    assert sent_message.delivery == "delivered"
    assert sent_message.delivered_at == at + timedelta(minutes=5)


@pytest.mark.django_db
def test_each_change_of_state_is_announced_once(sent_message, django_capture_on_commit_callbacks):
    heard = []

    def hear(signal_name):
        def receiver(sender, **payload):
            heard.append((signal_name, payload["message_id"], payload.get("kind")))

        return receiver

    on_delivered, on_bounced = hear("delivered"), hear("bounced")
    message_delivered.connect(on_delivered, sender=SmsMessage)
    message_bounced.connect(on_bounced, sender=SmsMessage)
    at = datetime.now(UTC)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            receipt_apply(Receipt(sent_message.message_id, "failed", at, "x", "y", True))
            receipt_apply(Receipt(sent_message.message_id, "failed", at, "x", "y", True))
            receipt_apply(Receipt(sent_message.message_id, "delivered", at))
            receipt_apply(Receipt(sent_message.message_id, "delivered", at))
    finally:
        message_delivered.disconnect(on_delivered, sender=SmsMessage)
        message_bounced.disconnect(on_bounced, sender=SmsMessage)

    assert heard == [
        ("bounced", sent_message.pk, "hard"),
        ("delivered", sent_message.pk, None),
    ]


@pytest.mark.django_db
def test_a_receipt_that_comes_back_before_its_batch_is_folded_still_applies(account):
    # given: the provider accepted the SMS; the engine has it in its sent journal, its batch
    # not folded yet (SMSCs may send the receipt at once)
    campaign = make_campaign(account, "+33612345678")
    [pk] = sending.claim_batch(SMS, campaign.pk)
    journal.append(SMS, pk, "SM" + "b" * 32, {"segments": 1})
    # when
    message = receipt_apply(Receipt("SM" + "b" * 32, "delivered", datetime.now(UTC)))
    # then
    assert message is not None and message.pk == pk
    assert (message.status, message.delivery, message.segments) == ("sent", "delivered", 1)
