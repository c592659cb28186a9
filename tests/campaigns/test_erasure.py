"""The email channel's part of a GDPR erasure: the messages sent to the contact."""

import pytest
from django.utils import timezone

from campaigns.models import EmailCampaign, Message
from contacts.models import Contact
from contacts.services.consent import contact_erase

pytestmark = pytest.mark.django_db


def test_erasing_a_contact_anonymises_the_messages_sent_to_them_and_keeps_their_outcome(account):
    campaign = EmailCampaign.objects.create(
        account=account, name="Soldes", subject="Soldes", status=EmailCampaign.Status.FINISHED
    )
    zoe, paul = (
        Contact.objects.create(account=account, key=email, email=email, email_status="subscribed")
        for email in ("zoe@example.com", "paul@example.com")
    )
    bounced = Message.objects.create(
        campaign=campaign, contact=zoe, email=zoe.email, status=Message.Status.BOUNCED,
        error="550 5.1.1 <zoe@example.com>: no such user", sent_at=timezone.now(),
    )  # fmt: skip
    kept = Message.objects.create(
        campaign=campaign, contact=paul, email=paul.email, status=Message.Status.SENT
    )

    contact_erase(contact=zoe, actor="dpo@boutique.fr")

    bounced.refresh_from_db()
    assert bounced.email == f"erased.{bounced.pk}@invalid"
    assert bounced.error == "" and bounced.contact is None
    assert bounced.status == Message.Status.BOUNCED  # the campaign's figures stay
    kept.refresh_from_db()
    assert kept.email == "paul@example.com" and kept.contact == paul
