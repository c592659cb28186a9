"""SMS reliability.

A provider outage: the campaign waits (its messages back in the queue, the campaign still
running) and resumes when the provider is back; nothing is lost, nothing sent twice.

A worker SIGKILLed in the middle of an SMS campaign (real PostgreSQL, Redis, Celery worker
processes, the Twilio simulator on loopback): every number still gets its SMS, at most one
twice per kill, and the message table agrees with what the provider received.
"""

import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import connection

from campaigns.engine import sending
from campaigns.engine.channel import DeliveryInterrupted
from campaigns.engine.lifecycle import PARALLEL_TASKS, campaign_start
from campaigns.tasks import dispatch_send, recover_expired_leases_task
from contacts.models import Contact, ListMembership
from sms.channel import SMS
from sms.models import SmsCampaign, SmsMessage
from sms.twilio_simulator import TwilioSimulator
from tests.conftest import requires_postgres
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory
from tests.sms.smpp_server import SmppServer, smpp_settings
from tests.worker_processes import start_celery_worker, wait_for

MOBILES = [f"+336123456{n:02d}" for n in range(12)]


@pytest.fixture
def campaign(account, clock):
    clock(datetime(2025, 6, 11, 9, 0, tzinfo=UTC))  # a Wednesday, 11:00 in Paris
    newsletter = ContactListFactory(account=account)
    for mobile in MOBILES:
        contact = ContactFactory(account=account, mobile=mobile, sms_status="subscribed")
        ListMembershipFactory(contact_list=newsletter, contact=contact)
    campaign = SmsCampaignFactory(account=account, lists=[newsletter], text="Soldes !")
    campaign_start(campaign=campaign)
    return campaign


def send_task(campaign) -> str:
    """What send_campaign_task does once: batches until nothing is due, or the provider is
    gone (then Celery retries the task later)."""
    try:
        while sending.send_batch(SMS, campaign.pk, size=5):
            pass
    except DeliveryInterrupted as error:
        return f"interrupted: {error}"
    return "done"


def by_status(campaign):
    return Counter(SmsMessage.objects.filter(campaign=campaign).values_list("status", flat=True))


@pytest.mark.django_db
def test_an_smsc_that_goes_away_mid_batch_and_comes_back(campaign, settings):
    with SmppServer(receipts=False) as smsc:
        smpp_settings(settings, smsc)
        smsc.cut_after = 7  # gone in the middle of the second batch

        assert send_task(campaign).startswith("interrupted: SMPP session lost")
        assert by_status(campaign) == {"sent": 7, "queued": 5}
        # still down: the next try cannot bind, and changes nothing
        assert send_task(campaign).startswith("interrupted: SMPP bind")
        assert by_status(campaign) == {"sent": 7, "queued": 5}
        assert SmsCampaign.objects.get(pk=campaign.pk).status == "running"

        smsc.start()  # back, on the same address
        assert send_task(campaign) == "done"

    assert by_status(campaign) == {"sent": 12}
    assert SmsCampaign.objects.get(pk=campaign.pk).status == "finished"
    destinations = Counter(f"+{sm.destination}" for sm in smsc.submitted)
    assert destinations == Counter(MOBILES)  # each once: the unanswered submit was not counted


@pytest.mark.django_db
def test_a_twilio_outage_then_its_api_unreachable_then_back(campaign, settings):
    settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
    settings.TWILIO_AUTH_TOKEN = "token"
    with TwilioSimulator(auth_token="token") as twilio:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_API_URL = twilio.account_sid, twilio.url
        port = twilio.server.server_address[1]
        twilio.outage_after = 4

        assert send_task(campaign).startswith("interrupted: 503")
        assert by_status(campaign) == {"sent": 4, "queued": 8}
        first = list(twilio.received)
    # the API does not even answer now
    assert send_task(campaign).startswith("interrupted:")
    assert by_status(campaign) == {"sent": 4, "queued": 8}
    assert SmsCampaign.objects.get(pk=campaign.pk).status == "running"

    with TwilioSimulator(auth_token="token", port=port) as back:
        assert send_task(campaign) == "done"

    assert by_status(campaign) == {"sent": 12}
    assert SmsCampaign.objects.get(pk=campaign.pk).status == "finished"
    assert Counter(form["To"] for form in first + back.received) == Counter(MOBILES)


RECIPIENTS = 2000


@requires_postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_sigkill_in_the_middle_of_an_sms_campaign(account):
    # given: 2,000 subscribed mobiles and a transactional SMS campaign (no legal hours: the
    # worker runs at the real time)
    newsletter = ContactListFactory(account=account, name="Clients")
    mobiles = [f"+3361{i:07d}" for i in range(RECIPIENTS)]
    contacts = Contact.objects.bulk_create(
        Contact(account=account, key=mobile, mobile=mobile, sms_status="subscribed")
        for mobile in mobiles
    )
    ListMembership.objects.bulk_create(
        ListMembership(contact_list=newsletter, contact=contact) for contact in contacts
    )
    campaign = SmsCampaignFactory(
        account=account, lists=[newsletter], kind="transactional", text="Votre colis arrive"
    )
    with TwilioSimulator(auth_token="crash-token") as twilio:
        # workers talk to this test's database, the test run's Redis and the simulator
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.sms.worker_settings",
            "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@"
            f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
            f"{connection.settings_dict['NAME']}",
            "TEST_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TEST_TWILIO_AUTH_TOKEN": "crash-token",
            "TEST_TWILIO_API_URL": twilio.url,
            "SEND_LEASE_SECONDS": "3",
            "CELERY_VISIBILITY_TIMEOUT": "20",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        first = start_celery_worker(env, "email,sms,default")
        second = None
        try:
            # when: the campaign starts, and the worker is killed mid-way
            campaign_start(campaign=campaign)
            for _slot in range(PARALLEL_TASKS):
                dispatch_send(SMS.name, campaign.pk)
            wait_for(lambda: len(twilio.received) >= 500, 120, "500 SMS at the provider")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            received_at_kill = len(twilio.received)
            assert received_at_kill < RECIPIENTS, "the campaign finished before the kill"
            time.sleep(3.5)  # the dead worker's lease expires
            second = start_celery_worker(env, "email,sms,default")
            recover_expired_leases_task.delay()  # what the beat does every minute
            wait_for(
                lambda: SmsCampaign.objects.get(pk=campaign.pk).status == "finished",
                240,
                "the campaign to finish",
            )
        finally:
            for worker in (first, second):
                if worker is not None and worker.poll() is None:
                    worker.terminate()
                    worker.wait(timeout=30)
        received = Counter(form["To"] for form in twilio.received)
    # then: every number got it, at most one twice, and the table agrees with the provider
    assert set(received) == set(mobiles)
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= 1, f"{duplicates} duplicates for one kill"
    sent = set(
        SmsMessage.objects.filter(campaign=campaign, status="sent").values_list("mobile", flat=True)
    )
    assert sent == set(received)
    print(f"\nSMS crash test: {received_at_kill} at the kill, {duplicates} duplicate(s)")
