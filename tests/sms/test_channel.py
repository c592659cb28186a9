"""SMS campaigns through the send engine, delivered to the locmem backend: audience, text,
opt-out mention, segments billed, and the legal hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.engine import sending
from campaigns.engine.lifecycle import campaign_start
from contacts.models import Channel, Suppression, address_hash
from sms import legal_hours
from sms.channel import SMS
from sms.inbound import reply_received
from sms.models import SmsCampaign, SmsMessage
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY_10H = datetime(2025, 6, 11, 10, 0, tzinfo=PARIS)
SUNDAY_10H = datetime(2025, 6, 15, 10, 0, tzinfo=PARIS)
MONDAY_8H = datetime(2025, 6, 16, 8, 0, tzinfo=PARIS)


@pytest.fixture
def newsletter(account):
    return ContactListFactory(account=account, name="SMS")


def subscriber(newsletter, mobile, first_name="Alice", **extra):
    contact = ContactFactory(
        account=newsletter.account,
        mobile=mobile,
        first_name=first_name,
        sms_status="subscribed",
        **extra,
    )
    ListMembershipFactory(contact_list=newsletter, contact=contact)
    return contact


def started(campaign):
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def by_mobile(campaign):
    return {m.mobile: m for m in SmsMessage.objects.filter(campaign=campaign)}


def test_a_marketing_campaign_is_delivered_with_its_merge_values_and_the_stop_mention(
    account, newsletter, sms_outbox, clock
):
    # given
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33612345678", "Alice")
    subscriber(newsletter, "+33698765432", "Bruno")
    campaign = started(SmsCampaignFactory(account=account, lists=[newsletter]))

    # when
    claimed = sending.send_batch(SMS, campaign.pk)

    # then
    assert claimed == 2
    texts = {sms.mobile: sms.text for sms in sms_outbox}
    assert texts == {
        "+33612345678": "Bonjour Alice, -20 % ce week-end\nSTOP au 36180",
        "+33698765432": "Bonjour Bruno, -20 % ce week-end\nSTOP au 36180",
    }
    assert {sms.sender for sms in sms_outbox} == {"Boutique"}
    messages = by_mobile(campaign)
    assert {m.status for m in messages.values()} == {"sent"}
    assert {m.segments for m in messages.values()} == {1}
    assert all(m.message_id.startswith("locmem-") for m in messages.values())


def test_segments_billed_are_counted_per_message_after_merge(
    account, newsletter, sms_outbox, clock
):
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33612345678", "Al")
    # A first name with a UCS-2 letter and a long one: this message alone takes two parts.
    subscriber(newsletter, "+33698765432", "Françoise" * 10)
    campaign = started(
        SmsCampaignFactory(account=account, lists=[newsletter], text="Bonjour {{ first_name }}")
    )

    sending.send_batch(SMS, campaign.pk)

    messages = by_mobile(campaign)
    assert messages["+33612345678"].segments == 1
    assert messages["+33698765432"].segments == 2
    ucs2 = next(sms for sms in sms_outbox if sms.mobile == "+33698765432")
    assert ucs2.encoding == "UCS-2"


def test_the_audience_is_sms_consent_with_a_mobile_minus_suppressions_and_exclusions(
    account, newsletter, sms_outbox, clock
):
    # given
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33600000001")
    subscriber(newsletter, "")  # no mobile
    ListMembershipFactory(
        contact_list=newsletter,
        contact=ContactFactory(account=account, mobile="+33600000002", email_status="subscribed"),
    )  # email consent only
    subscriber(newsletter, "+33600000003")
    Suppression.objects.create(
        account=account,
        channel=Channel.SMS,
        address_hash=address_hash("+33600000003"),
        reason=Suppression.Reason.UNSUBSCRIBED,
    )
    excluded = subscriber(newsletter, "+33600000004")
    blocklist = ContactListFactory(account=account, name="Blocklist")
    ListMembershipFactory(contact_list=blocklist, contact=excluded)
    subscriber(newsletter, "+33600000001", email="twin@example.com")  # same number twice
    campaign = SmsCampaignFactory(account=account, lists=[newsletter], excluded_lists=[blocklist])

    # when
    count = campaign_start(campaign=campaign)

    # then
    assert count == 1
    assert list(by_mobile(campaign)) == ["+33600000001"]


def test_outside_the_legal_hours_the_campaign_pauses_and_resumes_by_itself(
    account, newsletter, sms_outbox, clock, enqueued, django_capture_on_commit_callbacks
):
    # given: a campaign started on a Sunday
    clock(SUNDAY_10H)
    subscriber(newsletter, "+33612345678")
    campaign = started(SmsCampaignFactory(account=account, lists=[newsletter]))

    # when
    sending.send_batch(SMS, campaign.pk)

    # then: nothing sent, nothing lost, no attempt spent, and the campaign paused by itself
    # until the window opens, saying so
    assert sms_outbox == []
    message = SmsMessage.objects.get(campaign=campaign)
    assert (message.status, message.attempts) == ("queued", 0)
    assert message.next_attempt_at == MONDAY_8H
    campaign.refresh_from_db()
    assert campaign.status == SmsCampaign.Status.PAUSED
    assert campaign.resumes_at == MONDAY_8H
    # in the account's language (French by default) and time zone
    assert campaign.pause_reason == (
        "Hors des heures légales d'envoi : reprise le 16 juin 2025 08:00."
    )
    assert sending.send_batch(SMS, campaign.pk) == 0

    # a minute early, it still waits
    clock(MONDAY_8H - timedelta(minutes=1))
    assert legal_hours.resume_due() == 0

    # when the window opens, the periodic task resumes it and it is sent
    clock(MONDAY_8H)
    with django_capture_on_commit_callbacks(execute=True):
        assert legal_hours.resume_due() == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.resumes_at, campaign.pause_reason) == ("running", None, "")
    assert enqueued[-1] == ("sms", campaign.pk)
    sending.send_batch(SMS, campaign.pk)
    assert [sms.mobile for sms in sms_outbox] == ["+33612345678"]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_each_recipient_gets_the_hours_of_its_own_region(account, newsletter, sms_outbox, clock):
    # 07:00 in Paris is 09:00 in Réunion: the Réunion number goes, the Paris one waits.
    clock(datetime(2025, 6, 11, 7, 0, tzinfo=PARIS))
    subscriber(newsletter, "+33612345678")
    subscriber(newsletter, "+262692123456")
    campaign = started(SmsCampaignFactory(account=account, lists=[newsletter]))

    sending.send_batch(SMS, campaign.pk)

    assert [sms.mobile for sms in sms_outbox] == ["+262692123456"]
    messages = by_mobile(campaign)
    assert messages["+33612345678"].status == "queued"
    assert messages["+33612345678"].next_attempt_at == datetime(2025, 6, 11, 8, 0, tzinfo=PARIS)


def test_a_transactional_campaign_ignores_the_hours_and_the_stop_mention(
    account, newsletter, sms_outbox, clock
):
    clock(SUNDAY_10H)
    subscriber(newsletter, "+33612345678")
    campaign = started(
        SmsCampaignFactory(
            account=account,
            lists=[newsletter],
            kind=SmsCampaign.Kind.TRANSACTIONAL,
            text="Votre code : 1234",
        )
    )

    sending.send_batch(SMS, campaign.pk)

    assert [sms.text for sms in sms_outbox] == ["Votre code : 1234"]


def test_a_text_that_already_carries_the_mention_is_not_given_a_second(
    account, newsletter, sms_outbox, clock
):
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33612345678")
    campaign = started(
        SmsCampaignFactory(account=account, lists=[newsletter], text="Soldes ! Stop au 36180")
    )

    sending.send_batch(SMS, campaign.pk)

    assert [sms.text for sms in sms_outbox] == ["Soldes ! Stop au 36180"]


def test_a_sandboxed_campaign_hands_nothing_to_the_backend(account, newsletter, sms_outbox, clock):
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33612345678")
    campaign = started(SmsCampaignFactory(account=account, lists=[newsletter], sandbox=True))

    sending.send_batch(SMS, campaign.pk)

    assert sms_outbox == []
    assert SmsMessage.objects.get(campaign=campaign).status == "sandboxed"


def test_a_single_transactional_sms_is_sent_once_per_idempotency_key(
    account, newsletter, sms_outbox, clock
):
    clock(SUNDAY_10H)
    contact = subscriber(newsletter, "+33612345678")
    campaign = SmsCampaignFactory(
        account=account, kind=SmsCampaign.Kind.TRANSACTIONAL, text="Commande expédiée"
    )
    campaign_start(campaign=campaign)

    first = sending.message_send_one(campaign=campaign, contact=contact, idempotency_key="order-1")
    again = sending.message_send_one(campaign=campaign, contact=contact, idempotency_key="order-1")

    assert first.pk == again.pk
    assert (first.status, first.segments) == ("sent", 1)
    assert [sms.text for sms in sms_outbox] == ["Commande expédiée"]


def test_the_channel_is_registered_with_the_engine():
    from campaigns.engine.channel import channel_named, channel_of

    assert channel_named("sms") is SMS
    assert channel_of(SmsCampaign()) is SMS


def test_a_contact_erased_after_the_freeze_is_cancelled_but_a_contactless_single_send_goes(
    account, newsletter, sms_outbox, clock
):
    # given a campaign frozen for one contact, erased since (the message lost its contact)
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33612345678")
    campaign = started(SmsCampaignFactory(account=account, lists=[newsletter]))
    SmsMessage.objects.filter(campaign=campaign).update(contact=None)
    # and a transactional single send to a number that is no contact
    single = SmsCampaignFactory(
        account=account, kind=SmsCampaign.Kind.TRANSACTIONAL, sender=campaign.sender
    )
    campaign_start(campaign=single)

    # when
    sending.send_batch(SMS, campaign.pk)
    sent = sending.message_send_one(
        campaign=single, idempotency_key="otp-1", address="+33698765432",
        content={"text": "Code : 1234"},
    )  # fmt: skip

    # then
    assert SmsMessage.objects.get(campaign=campaign).status == "cancelled"
    assert (sent.status, sent.contact, sent.mobile) == ("sent", None, "+33698765432")
    assert [(sms.mobile, sms.text) for sms in sms_outbox] == [("+33698765432", "Code : 1234")]


def test_a_contactless_single_send_to_a_suppressed_number_is_cancelled(account, sms_outbox):
    suppression_number = "+33698765432"
    Suppression.objects.create(
        account=account, channel=Channel.SMS, address_hash=address_hash(suppression_number),
        reason=Suppression.Reason.UNSUBSCRIBED,
    )  # fmt: skip
    single = SmsCampaignFactory(account=account, kind=SmsCampaign.Kind.TRANSACTIONAL)
    campaign_start(campaign=single)
    sent = sending.message_send_one(
        campaign=single, idempotency_key="otp-1", address=suppression_number,
        content={"text": "Code : 1234"},
    )  # fmt: skip
    assert sent.status == "cancelled" and sms_outbox == []


def test_a_stop_reply_after_the_freeze_cancels_the_message_still_queued(
    account, newsletter, sms_outbox, clock
):
    """STOP must be honoured at once: a campaign frozen before the reply sends nothing more to
    that number, even though its message was queued already."""
    # given
    clock(WEDNESDAY_10H)
    subscriber(newsletter, "+33612345678", "Alice")
    subscriber(newsletter, "+33698765432", "Bruno")
    campaign = started(SmsCampaignFactory(account=account, lists=[newsletter]))
    earlier = started(
        SmsCampaignFactory(account=account, lists=[newsletter], sender=campaign.sender)
    )
    SmsMessage.objects.filter(campaign=earlier, mobile="+33698765432").update(
        status="sent", sent_at=WEDNESDAY_10H
    )
    reply_received(
        provider="twilio", provider_id="SM-stop-1", mobile="+33698765432",
        to="Boutique", text="Stop", received_at=WEDNESDAY_10H,
    )  # fmt: skip

    # when
    sending.send_batch(SMS, campaign.pk)

    # then
    assert [sms.mobile for sms in sms_outbox] == ["+33612345678"]
    assert by_mobile(campaign)["+33698765432"].status == "cancelled"


def test_a_batch_costs_the_same_queries_whatever_its_size(account, sms_outbox, clock):
    """The messages load only the columns the engine and the channel read (message_columns):
    a column they read but left out would cost one query per message."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clock(WEDNESDAY_10H)
    senders = []

    def queries_to_send(recipients: int) -> int:
        audience = ContactListFactory(account=account, name=f"{recipients} SMS")
        for index in range(recipients):
            subscriber(audience, f"+3361{recipients:02d}345{index:02d}", f"Client{index}")
        shared = {"sender": senders[0]} if senders else {}
        campaign = SmsCampaignFactory(account=account, lists=[audience], **shared)
        senders.append(campaign.sender)
        campaign = started(campaign)
        with CaptureQueriesContext(connection) as queries:
            assert sending.send_batch(SMS, campaign.pk) == recipients
        return len(queries)

    # when
    two, six = queries_to_send(2), queries_to_send(6)
    # then: the batch's own queries are the same; a record per message (or none, where the
    # sent journal has a connection of its own)
    assert six - two in (0, 4)
    assert len(sms_outbox) == 8
