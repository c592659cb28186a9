"""Transactional single sends (POST /api/v1/sms/send/): one number and one text through the send
engine, contact or not, whatever the hour, without the opt-out mention; idempotent by key;
refused for a number that replied STOP; sandboxed into the outbox with a test key; per account."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from campaigns.engine import sending
from contacts.models import Channel, Suppression
from contacts.services.consent import suppression_add
from sms.channel import SMS
from sms.models import OutboxSms, SingleSendKey, SmsCampaign, SmsMessage
from sms.services import campaign_cancel
from tests.factories import AccountFactory, ContactFactory, make_api_key
from tests.sms.factories import SmsSenderFactory

pytestmark = pytest.mark.django_db
SEND = "/api/v1/sms/send/"
SUNDAY_23H_PARIS = datetime(2025, 6, 15, 21, 0, tzinfo=UTC)
CODE = {"mobile": "+33612345678", "text": "Votre code : 481 516. Il expire dans 10 minutes."}


@pytest.fixture
def sender(account):
    return SmsSenderFactory(account=account, value="Boutique")


def send(client, key="order-42", **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(SEND, body or CODE, format="json", **headers)


def client_of(account, mode=ApiKey.Mode.LIVE):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(account, mode=mode)[1]}")
    return client


def test_a_key_being_sent_with_another_body_is_refused_as_reused(api_client, sender, sms_outbox):
    """Two requests racing with one key and different senders would open two campaigns: the
    key is taken for the account first, so the second learns the key is someone else's."""
    SingleSendKey.objects.create(account=sender.account, key="order-42", request_hash="0" * 64)
    answer = send(api_client)
    assert answer.status_code == 409
    assert answer.json()["code"] == "idempotency_key_reused"
    assert sms_outbox == [] and not SmsMessage.objects.exists()


def test_a_key_still_being_sent_for_the_same_sms_asks_to_retry(api_client, sender, sms_outbox):
    first = send(api_client, key="order-41")
    assert first.status_code == 201
    # the same request as a first one that took its key and has not created its message yet
    taken = SingleSendKey.objects.get(key="order-41")
    SingleSendKey.objects.create(
        account=sender.account, key="order-42", request_hash=taken.request_hash
    )
    answer = send(api_client)
    assert answer.status_code == 409
    assert answer.json()["code"] == "idempotency_key_in_use"
    assert "idempotency_key" in answer.json()["fields"]
    assert len(sms_outbox) == 1


def test_a_key_left_by_a_request_that_died_is_taken_over_after_a_lease(
    api_client, sender, sms_outbox
):
    send(api_client, key="order-41")
    taken = SingleSendKey.objects.get(key="order-41")
    SingleSendKey.objects.create(
        account=sender.account, key="order-42", request_hash=taken.request_hash
    )
    SingleSendKey.objects.filter(key="order-42").update(
        created_at=timezone.now() - sending.lease() - timedelta(seconds=1)
    )
    answer = send(api_client)
    assert answer.status_code == 201
    assert [s.mobile for s in sms_outbox] == [CODE["mobile"]] * 2
    assert send(api_client).headers["Idempotent-Replayed"] == "true"


def test_keys_are_taken_per_account(api_client, sender, sms_outbox):
    other = AccountFactory()
    SmsSenderFactory(account=other, value="Boutique")
    SingleSendKey.objects.create(account=other, key="order-42", request_hash="0" * 64)
    assert send(api_client).status_code == 201


def test_a_number_that_is_no_contact_gets_the_text_as_written_at_any_hour(
    api_client, sender, sms_outbox, clock
):
    # given a Sunday night, a number no contact has, a text without the STOP mention
    clock(SUNDAY_23H_PARIS)
    # when
    answer = send(api_client)
    # then it leaves at once, as written, through the engine's record of a message
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "sent" and body["sender"] == "Boutique"
    assert body["encoding"] == "GSM-7" and body["segments"] == 1
    assert [(s.mobile, s.sender, s.text) for s in sms_outbox] == [
        ("+33612345678", "Boutique", CODE["text"])
    ]
    message = SmsMessage.objects.get(pk=body["id"])
    assert message.contact is None and message.segments == 1
    assert message.message_id.startswith("locmem-")
    assert message.campaign.single_sends and not message.campaign.is_marketing


def test_a_national_number_is_read_in_the_accounts_region(api_client, sender, sms_outbox):
    answer = send(api_client, mobile="06 12 34 56 78", text="Votre colis est arrivé.")
    assert answer.status_code == 201
    assert sms_outbox[0].mobile == "+33612345678"


def test_the_same_key_and_body_answers_the_same_and_sends_nothing_more(
    api_client, sender, sms_outbox
):
    first = send(api_client)
    again = send(api_client)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(sms_outbox) == 1
    assert SmsMessage.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict(api_client, sender, sms_outbox):
    SmsSenderFactory(account=sender.account, value="Livraison")
    send(api_client)
    for changed in [
        {**CODE, "text": "Votre code : 000 000."},
        {**CODE, "mobile": "+33612345679"},
        {**CODE, "sender": "Livraison"},
    ]:
        answer = send(api_client, **changed)
        assert answer.status_code == 409
        assert answer.json()["code"] == "idempotency_key_reused"
    assert len(sms_outbox) == 1
    # a new key is a new SMS
    assert send(api_client, key="order-43", **{**CODE, "sender": "Livraison"}).status_code == 201
    assert [s.sender for s in sms_outbox] == ["Boutique", "Livraison"]


def test_a_number_that_replied_stop_is_refused(api_client, account, sender, sms_outbox):
    suppression_add(
        account=account,
        channel=Channel.SMS,
        address="+33612345678",
        reason=Suppression.Reason.UNSUBSCRIBED,
    )
    answer = send(api_client)
    assert answer.status_code == 409
    assert answer.json()["code"] == "number_suppressed"
    assert "mobile" in answer.json()["fields"]
    assert sms_outbox == [] and not SmsMessage.objects.exists()
    # suppressed for email only: it goes
    other = "+33699999999"
    suppression_add(account=account, channel=Channel.EMAIL, address=other, reason="unsubscribed")
    assert send(api_client, key="k2", **{**CODE, "mobile": other}).status_code == 201


def test_a_contact_without_sms_consent_still_gets_a_transactional_sms(
    api_client, account, sender, sms_outbox
):
    ContactFactory(account=account, mobile="+33612345678", sms_status="unsubscribed")
    assert send(api_client).json()["status"] == "sent"


@pytest.mark.parametrize(
    ("key", "body", "field"),
    [
        (None, CODE, "idempotency_key"),
        ("x" * 201, CODE, "idempotency_key"),
        ("a key", CODE, "idempotency_key"),
        ("k", {**CODE, "mobile": "0612"}, "mobile"),
        ("k", {**CODE, "text": "   "}, "text"),
        ("k", {**CODE, "sender": "Inconnu"}, "sender"),
    ],
)
def test_what_is_refused_says_which_field(api_client, sender, sms_outbox, key, body, field):
    answer = send(api_client, key, **body)
    assert answer.status_code == 400
    assert field in answer.json()["fields"]
    assert sms_outbox == []


def test_an_account_without_a_sender_is_told_to_add_one(api_client, sms_outbox):
    answer = send(api_client)
    assert answer.status_code == 409 and "sender" in answer.json()["fields"]


def test_a_test_key_keeps_the_sms_in_the_outbox_and_hands_nothing_to_the_provider(
    account, sender, sms_outbox
):
    client = client_of(account, ApiKey.Mode.TEST)
    answer = send(client)
    assert answer.status_code == 201
    assert answer.json()["status"] == "sandboxed" and answer.json()["sandbox"] is True
    assert sms_outbox == []
    kept = client.get("/api/v1/sms/outbox/").json()["results"]
    assert [(k["mobile"], k["text"], k["message"]) for k in kept] == [
        ("+33612345678", CODE["text"], answer.json()["id"])
    ]
    # replayed: still one
    send(client)
    assert OutboxSms.objects.count() == 1
    # the same key from a live key is another request
    assert send(client_of(account)).status_code == 409


def test_an_unreachable_provider_queues_the_sms_for_a_worker(
    api_client, sender, settings, enqueued
):
    settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
    settings.TWILIO_API_URL = "http://127.0.0.1:58249"  # nothing listens there
    answer = send(api_client)
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    campaign_id = SmsMessage.objects.get().campaign_id
    assert ("sms", campaign_id) in enqueued


def test_a_worker_sends_what_waited_and_the_campaign_stands_for_the_next_send(
    api_client, sender, sms_outbox
):
    campaign = SmsCampaign.objects.create(
        account=sender.account, sender=sender, single_sends=True, kind="transactional",
        status="paused", name="Transactional", standing=True,
    )  # fmt: skip
    # paused by the user: the SMS waits
    assert send(api_client).status_code == 202
    SmsCampaign.objects.filter(pk=campaign.pk).update(status="running")
    while sending.send_batch(SMS, campaign.pk):
        pass
    assert [s.mobile for s in sms_outbox] == ["+33612345678"]
    # the retry of the call now answers what the worker did
    assert send(api_client).json()["status"] == "sent"
    # an empty queue does not finish a standing campaign: the next SMS goes through it
    campaign.refresh_from_db()
    assert campaign.status == "running" and campaign.finished_at is None
    assert send(api_client, key="order-43").json()["status"] == "sent"
    assert SmsCampaign.objects.filter(single_sends=True).count() == 1


def test_a_number_that_replies_stop_while_its_sms_waits_is_not_sent_it(
    api_client, account, sender, sms_outbox
):
    """Accepted (202) while the campaign could not send; the number replied STOP before a worker
    got to it: the worker cancels it instead of sending."""
    campaign = SmsCampaign.objects.create(
        account=account, sender=sender, single_sends=True, kind="transactional",
        status="paused", name="Transactional", standing=True,
    )  # fmt: skip
    assert send(api_client).status_code == 202
    suppression_add(
        account=account, channel=Channel.SMS, address=CODE["mobile"],
        reason=Suppression.Reason.UNSUBSCRIBED,
    )  # fmt: skip
    SmsCampaign.objects.filter(pk=campaign.pk).update(status="running")
    while sending.send_batch(SMS, campaign.pk):
        pass
    assert sms_outbox == []
    assert SmsMessage.objects.get().status == "cancelled"


def test_the_single_send_campaign_is_created_standing(api_client, sender, sms_outbox):
    send(api_client)
    assert SmsCampaign.objects.get(single_sends=True).standing


def test_after_a_cancel_the_next_sms_opens_a_new_campaign(api_client, sender, sms_outbox):
    first = SmsMessage.objects.get(pk=send(api_client).json()["id"])
    campaign_cancel(campaign=first.campaign)
    second = SmsMessage.objects.get(pk=send(api_client, key="order-43").json()["id"])
    assert second.campaign_id != first.campaign_id
    # the first key is still known across the account's single-send campaigns
    assert send(api_client).headers["Idempotent-Replayed"] == "true"
    assert len(sms_outbox) == 2


def test_keys_and_numbers_are_per_account(api_client, account, sender, sms_outbox):
    other = AccountFactory()
    SmsSenderFactory(account=other, value="Boutique")
    suppression_add(
        account=other, channel=Channel.SMS, address="+33612345678", reason="unsubscribed"
    )
    other_client = client_of(other)
    # another account's STOP does not bind this one; its key is its own
    assert send(api_client).status_code == 201
    assert send(other_client).json()["code"] == "number_suppressed"
    assert send(other_client, **{**CODE, "mobile": "+33611111111"}).status_code == 201
    assert SmsMessage.objects.filter(campaign__account=other).count() == 1
    # another account's single-send campaign and messages are 404 here
    theirs = SmsMessage.objects.get(campaign__account=other)
    assert api_client.get(f"/api/v1/campaigns/sms/{theirs.campaign_id}/").status_code == 404
    assert (
        api_client.get(f"/api/v1/campaigns/sms/{theirs.campaign_id}/messages/").status_code == 404
    )


def test_a_sender_used_by_single_sends_only_can_still_be_deleted(api_client, sender, sms_outbox):
    campaign_id = SmsMessage.objects.get(pk=send(api_client).json()["id"]).campaign_id
    assert api_client.delete(f"/api/v1/sms/senders/{sender.pk}/").status_code == 204
    assert SmsCampaign.objects.get(pk=campaign_id).status == "cancelled"
    # an SMS still waiting keeps the sender
    other = SmsSenderFactory(account=sender.account, value="Livraison")
    SmsCampaign.objects.create(
        account=sender.account, sender=other, single_sends=True, kind="transactional",
        status="paused", name="Transactional",
    )  # fmt: skip
    assert send(api_client, key="order-43", **{**CODE, "sender": "Livraison"}).status_code == 202
    assert api_client.delete(f"/api/v1/sms/senders/{other.pk}/").status_code == 409
