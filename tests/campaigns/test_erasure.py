"""The email channel's part of a GDPR erasure: the messages sent to the contact."""

import pytest
from django.utils import timezone

from campaigns.models import EmailCampaign, Message
from contacts.services.consent import contact_erase
from tests.factories import ContactFactory, EmailCampaignFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_campaign(account):
    return EmailCampaignFactory(account=account, status=EmailCampaign.Status.FINISHED)


@pytest.fixture
def zoe(account):
    return ContactFactory(account=account, email="zoe@example.com", email_status="subscribed")


def test_erasing_a_contact_anonymises_the_messages_sent_to_them_and_keeps_their_outcome(
    finished_campaign, zoe
):
    # given
    bounced = MessageFactory(
        campaign=finished_campaign, contact=zoe, status=Message.Status.BOUNCED,
        error="550 5.1.1 <zoe@example.com>: no such user", sent_at=timezone.now(),
    )  # fmt: skip
    # when
    contact_erase(contact=zoe, actor="dpo@boutique.fr")
    # then
    bounced.refresh_from_db()
    assert bounced.email == f"erased.{bounced.pk}@invalid"
    assert bounced.error == "" and bounced.contact is None
    assert bounced.status == Message.Status.BOUNCED  # the campaign's figures stay


def test_erasing_a_contact_keeps_the_messages_sent_to_others(account, finished_campaign, zoe):
    # given
    paul = ContactFactory(account=account, email="paul@example.com", email_status="subscribed")
    MessageFactory(campaign=finished_campaign, contact=zoe, status=Message.Status.SENT)
    kept = MessageFactory(campaign=finished_campaign, contact=paul, status=Message.Status.SENT)
    # when
    contact_erase(contact=zoe, actor="dpo@boutique.fr")
    # then
    kept.refresh_from_db()
    assert kept.email == "paul@example.com" and kept.contact == paul
