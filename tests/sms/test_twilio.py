"""The Twilio backend against a loopback server speaking Twilio's Messages API."""

import json
from datetime import UTC, datetime

import pytest

from campaigns.engine import sending
from campaigns.engine.channel import (
    ConnectionLost,
    DeliveryInterrupted,
    PermanentFailure,
    RetryLater,
    Sent,
)
from campaigns.engine.lifecycle import campaign_start
from contacts.models import Channel, Suppression, address_hash
from sms.backends import OutgoingSms
from sms.backends.twilio import SmsBackend, answer
from sms.channel import SMS
from sms.models import SmsMessage
from sms.twilio_simulator import TwilioSimulator
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory

TOKEN = "test-auth-token"


@pytest.fixture
def twilio(settings):
    with TwilioSimulator(auth_token=TOKEN) as simulator:
        settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
        settings.TWILIO_ACCOUNT_SID = simulator.account_sid
        settings.TWILIO_AUTH_TOKEN = TOKEN
        settings.TWILIO_API_URL = simulator.url
        yield simulator


@pytest.fixture
def campaign_to(account, clock):
    clock(datetime(2025, 6, 11, 9, 0, tzinfo=UTC))  # a Wednesday, 11:00 in Paris

    def make(*mobiles):
        newsletter = ContactListFactory(account=account)
        for mobile in mobiles:
            contact = ContactFactory(
                account=account, mobile=mobile, first_name="Alice", sms_status="subscribed"
            )
            ListMembershipFactory(contact_list=newsletter, contact=contact)
        campaign = SmsCampaignFactory(
            account=account, lists=[newsletter], text="Bonjour {{ first_name }}"
        )
        campaign_start(campaign=campaign)
        return campaign

    return make


def statuses(campaign):
    return dict(SmsMessage.objects.filter(campaign=campaign).values_list("mobile", "status"))


@pytest.mark.django_db
def test_messages_are_posted_in_twilios_format_and_keep_its_sid(twilio, campaign_to, settings):
    campaign = campaign_to("+33612345678", "+33698765432")

    sending.send_batch(SMS, campaign.pk)

    callback = f"{settings.PUBLIC_BASE_URL}/sms/hooks/twilio/status/"
    assert sorted(twilio.received, key=lambda form: form["To"]) == [
        {
            "To": "+33612345678",
            "From": "Boutique",
            "Body": "Bonjour Alice\nSTOP au 36180",
            "StatusCallback": callback,
        },
        {
            "To": "+33698765432",
            "From": "Boutique",
            "Body": "Bonjour Alice\nSTOP au 36180",
            "StatusCallback": callback,
        },
    ]
    message = SmsMessage.objects.filter(campaign=campaign).first()
    assert message.status == "sent"
    assert message.message_id.startswith("SM") and len(message.message_id) == 34


@pytest.mark.django_db
def test_throttling_is_retried_and_an_invalid_number_fails_and_is_suppressed(
    twilio, campaign_to, account
):
    campaign = campaign_to("+33600000429", "+33600000400", "+33612345678")

    sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {
        "+33600000429": "queued",
        "+33600000400": "bounced",
        "+33612345678": "sent",
    }
    throttled = SmsMessage.objects.get(campaign=campaign, mobile="+33600000429")
    assert throttled.next_attempt_at is not None and "20429" in throttled.error
    assert Suppression.objects.filter(
        account=account, channel=Channel.SMS, address_hash=address_hash("+33600000400")
    ).exists()


@pytest.mark.django_db
def test_an_outage_puts_the_batch_back_and_nothing_is_lost(twilio, campaign_to):
    campaign = campaign_to("+33600000500", "+33612345678")

    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {"+33600000500": "queued", "+33612345678": "queued"}
    assert twilio.received == []


@pytest.mark.django_db
def test_wrong_credentials_stop_the_batch_instead_of_failing_every_message(
    twilio, campaign_to, settings
):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    campaign = campaign_to("+33612345678")

    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {"+33612345678": "queued"}


@pytest.mark.django_db
def test_an_unreachable_provider_leaves_the_batch_queued(campaign_to, settings):
    settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC1", TOKEN
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    campaign = campaign_to("+33612345678")

    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(SMS, campaign.pk)

    assert statuses(campaign) == {"+33612345678": "queued"}


@pytest.mark.parametrize(
    ("status", "payload", "outcome"),
    [
        (201, {"sid": "SM1"}, Sent("SM1")),
        (429, {"code": 20429, "message": "Too Many Requests"}, RetryLater),
        (400, {"code": 21211, "message": "invalid To"}, PermanentFailure),
        (400, {"code": 21610, "message": "unsubscribed recipient"}, PermanentFailure),
        (400, {"code": 21602, "message": "Message body is required"}, PermanentFailure),
        (401, {"code": 20003, "message": "Authenticate"}, ConnectionLost),
        (503, {}, ConnectionLost),
    ],
)
def test_twilio_answers(status, payload, outcome):
    result = answer(status, json.dumps(payload).encode())

    if isinstance(outcome, Sent):
        assert result == outcome
    else:
        assert isinstance(result, outcome)


def test_only_a_dead_number_is_suppressed():
    assert answer(400, b'{"code": 21211}').suppress
    assert answer(400, b'{"code": 21610}').suppress
    assert not answer(400, b'{"code": 21602}').suppress


def test_the_backend_reuses_one_connection_for_a_batch():
    with TwilioSimulator(auth_token=TOKEN) as simulator:
        backend = SmsBackend(simulator.account_sid, TOKEN, simulator.url)
        backend.open()
        outcomes = [
            backend.send(OutgoingSms(1, None, "", f"+3361234567{n}", "hi", "GSM-7", 1))
            for n in range(5)
        ]
        backend.close()

    assert all(isinstance(outcome, Sent) for outcome in outcomes)
    assert simulator.connections == 1
    assert [form["To"] for form in simulator.received] == [f"+3361234567{n}" for n in range(5)]
    assert all("From" not in form for form in simulator.received)
