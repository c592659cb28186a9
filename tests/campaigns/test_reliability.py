"""A worker SIGKILLed in the middle of a campaign: every recipient still gets it, at most one
twice per kill, and the message table agrees with what the SMTP server received.

Real components only: PostgreSQL, Redis, Celery worker processes, an SMTP server on loopback.
"""

import os
import signal
import time
from collections import Counter

import pytest
from django.db import connection

from campaigns.models import EmailCampaign, Message
from campaigns.services import campaign_create, campaign_schedule
from campaigns.tasks import recover_expired_leases_task
from contacts.models import Contact, ListMembership
from tests.conftest import requires_postgres
from tests.factories import ContactListFactory, SenderAddressFactory
from tests.worker_processes import start_celery_worker, wait_for

RECIPIENTS = 2000
HTML = '<p>Bonjour {{ first_name }}</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>'


@requires_postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_sigkill_in_the_middle_of_a_campaign(smtp_server, settings, account):
    # given: 2,000 subscribed contacts and a campaign
    account.postal_address = "1 rue de la Paix, Paris"
    account.save()
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="Boutique")
    newsletter = ContactListFactory(account=account, name="Newsletter")
    contacts = Contact.objects.bulk_create(
        Contact(
            account=account,
            key=f"r{i}@example.com",
            email=f"r{i}@example.com",
            first_name=f"R{i}",
            email_status="subscribed",
        )  # fmt: skip
        for i in range(RECIPIENTS)
    )
    ListMembership.objects.bulk_create(
        ListMembership(contact_list=newsletter, contact=contact) for contact in contacts
    )
    campaign = campaign_create(
        account=account,
        data={
            "name": "Fiabilité",
            "subject": "Test",
            "sender": sender,
            "html": HTML,
            "lists": [newsletter],
        },  # fmt: skip
    )
    # workers talk to this test's database, the test run's Redis and the SMTP server
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@"
        f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
        f"{connection.settings_dict['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{settings.EMAIL_PORT}",
        "SEND_LEASE_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "20",
        "EMAIL_SEND_RATE_PER_ACCOUNT": "100000",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    first = start_celery_worker(env, "email,default")
    second = None
    try:
        # when: the campaign starts, and the worker is killed mid-way
        campaign_schedule(campaign=campaign, at=None)
        wait_for(lambda: len(smtp_server.messages) >= 500, 120, "500 deliveries")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        received_at_kill = len(smtp_server.messages)
        assert received_at_kill < RECIPIENTS, "the campaign finished before the kill"
        time.sleep(3.5)  # the dead worker's lease expires
        second = start_celery_worker(env, "email,default")
        recover_expired_leases_task.delay()  # what the beat does every minute
        wait_for(
            lambda: EmailCampaign.objects.get(pk=campaign.pk).status == "finished",
            240,
            "the campaign to finish",
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    # then
    deliveries = Counter(to[0] for to, _message in smtp_server.messages)
    assert set(deliveries) == {f"r{i}@example.com" for i in range(RECIPIENTS)}
    duplicates = sum(count - 1 for count in deliveries.values())
    assert duplicates <= 1, f"{duplicates} duplicates for one kill"
    sent = set(
        Message.objects.filter(campaign=campaign, status="sent").values_list("email", flat=True)
    )
    assert sent == set(deliveries)
