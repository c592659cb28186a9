"""One message to one contact through the send engine, with an idempotency key."""

import threading

import pytest
from django.db import connection

from campaigns.engine.lifecycle import campaign_pause, campaign_resume
from campaigns.models import EmailCampaign, Message
from campaigns.pipeline import campaign_start, message_send_one, send_batch
from campaigns.services import campaign_create
from contacts.models import Contact
from contacts.services.consent import suppression_add
from tests.conftest import requires_postgres
from tests.factories import ContactFactory, ContactListFactory, SenderAddressFactory

HTML = '<p>Bonjour {{ first_name }}</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>'


def running_campaign(account) -> EmailCampaign:
    """A campaign that holds single sends: started, with an audience of nobody."""
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="Boutique")
    campaign = campaign_create(
        account=account,
        data={
            "name": "Confirmations",
            "subject": "Merci {{ first_name }}",
            "sender": sender,
            "html": HTML,
            "lists": [ContactListFactory(account=account, name="Nobody")],
        },
    )
    campaign_start(campaign=campaign)
    return campaign


def contact(account, email="zoe@example.com", status="subscribed") -> Contact:
    return ContactFactory(account=account, email=email, first_name="Zoé", email_status=status)


@pytest.mark.django_db
def test_a_second_call_with_the_same_key_sends_nothing_more(account, smtp_server):
    # given
    campaign = running_campaign(account)
    zoe = contact(account)
    # when
    first = message_send_one(campaign=campaign, contact=zoe, idempotency_key="order-42")
    second = message_send_one(campaign=campaign, contact=zoe, idempotency_key="order-42")
    # then
    assert first.pk == second.pk and second.status == "sent"
    assert [to for to, _message in smtp_server.messages] == [["zoe@example.com"]]
    assert smtp_server.messages[0][1]["Subject"] == "Merci Zoé"


@pytest.mark.django_db
def test_another_key_sends_again_to_the_same_address(account, smtp_server):
    campaign = running_campaign(account)
    zoe = contact(account)
    message_send_one(campaign=campaign, contact=zoe, idempotency_key="order-42")
    message_send_one(campaign=campaign, contact=zoe, idempotency_key="order-43")
    assert len(smtp_server.messages) == 2
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 2


@pytest.mark.django_db
def test_consent_and_suppression_apply_to_a_single_send(account, smtp_server):
    campaign = running_campaign(account)
    unsubscribed = contact(account, "gone@example.com", status="unsubscribed")
    suppressed = contact(account, "bounced@example.com")
    suppression_add(
        account=account, channel="email", address=suppressed.email, reason="hard_bounce"
    )
    for person in (unsubscribed, suppressed):
        message = message_send_one(campaign=campaign, contact=person, idempotency_key=person.email)
        assert message.status == "cancelled"
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_a_single_send_of_a_paused_campaign_waits_for_its_resumption(account, smtp_server):
    campaign = running_campaign(account)
    campaign_pause(campaign=campaign)
    message = message_send_one(campaign=campaign, contact=contact(account), idempotency_key="k")
    assert message.status == "queued" and smtp_server.messages == []
    campaign_resume(campaign=campaign)
    while send_batch(campaign.pk):
        pass
    assert Message.objects.get(pk=message.pk).status == "sent"
    assert len(smtp_server.messages) == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_the_same_key_send_once(account, smtp_server, enqueued):
    # given
    campaign = running_campaign(account)
    zoe = contact(account)
    start = threading.Barrier(4)
    answers, errors = [], []

    def call():
        try:
            start.wait()
            answers.append(
                message_send_one(campaign=campaign, contact=zoe, idempotency_key="order-42").pk
            )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert len(set(answers)) == 1
    assert len(smtp_server.messages) == 1
    assert Message.objects.get(pk=answers[0]).status == "sent"


def _claimed_by_a_dead_worker(campaign, person, *, seconds_ago: int) -> Message:
    """The state a worker killed in the middle of a single send leaves: the message claimed."""
    from datetime import timedelta

    from django.utils import timezone

    return Message.objects.create(
        campaign=campaign,
        contact=person,
        email=person.email,
        idempotency_key="step-1",
        status="sending",
        attempts=1,
        claimed_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_a_call_again_takes_over_a_claim_older_than_the_lease(account, smtp_server, settings):
    # given: the worker died before the provider accepted the message (no journal record)
    settings.SEND_LEASE_SECONDS = 60
    campaign = running_campaign(account)
    zoe = contact(account)
    stale = _claimed_by_a_dead_worker(campaign, zoe, seconds_ago=61)
    # when: the caller runs again with the same key (a scenario step after its own lease)
    message = message_send_one(campaign=campaign, contact=zoe, idempotency_key="step-1")
    # then: sent now, not left for the periodic recovery
    assert message.pk == stale.pk and message.status == "sent"
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_a_stale_claim_the_journal_says_was_sent_is_not_sent_again(account, smtp_server, settings):
    from campaigns.engine import journal
    from campaigns.engine.channel import channel_of

    # given: the worker died after the provider accepted the message, before the fold
    settings.SEND_LEASE_SECONDS = 60
    campaign = running_campaign(account)
    zoe = contact(account)
    stale = _claimed_by_a_dead_worker(campaign, zoe, seconds_ago=61)
    journal.append(channel_of(campaign), stale.pk, "provider-id-1")
    # when
    message = message_send_one(campaign=campaign, contact=zoe, idempotency_key="step-1")
    # then
    assert message.status == "sent" and message.message_id == "provider-id-1"
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_a_claim_within_its_lease_is_left_to_its_worker(account, smtp_server, settings):
    settings.SEND_LEASE_SECONDS = 60
    campaign = running_campaign(account)
    zoe = contact(account)
    _claimed_by_a_dead_worker(campaign, zoe, seconds_ago=5)
    message = message_send_one(campaign=campaign, contact=zoe, idempotency_key="step-1")
    assert message.status == "sending"
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_an_empty_queue_finishes_a_campaign_but_not_a_standing_one(account, smtp_server):
    campaign = running_campaign(account)
    EmailCampaign.objects.filter(pk=campaign.pk).update(standing=True)
    assert send_batch(campaign.pk) == 0
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "running"

    EmailCampaign.objects.filter(pk=campaign.pk).update(standing=False)
    assert send_batch(campaign.pk) == 0
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "finished"
