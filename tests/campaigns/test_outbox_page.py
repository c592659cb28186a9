"""The outbox shows each kept message as a mail client would: rendered, with the envelope and
the headers that matter."""

import pytest

from campaigns.models import OutboxMessage
from campaigns.outbox import outbox_headers
from campaigns.services import campaign_send_test
from tests.factories import EmailCampaignFactory, SenderAddressFactory

pytestmark = pytest.mark.django_db

HOUSE_DESIGN = "<p>Notre design maison</p><a href='{{ unsubscribe_url }}'>x</a>"


def test_the_outbox_shows_a_campaign_message_with_the_headers_that_matter(
    logged_in_client, account, settings
):
    # given a test send kept in the outbox
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    account.email_verified_at = account.created_at
    account.postal_address = "1 rue de la Paix, 75002 Paris"
    account.save()
    sender = SenderAddressFactory(account=account, email="news@boutique.example", name="Boutique")
    campaign = EmailCampaignFactory(
        account=account, sender=sender, subject="Nos nouveautés", html=HOUSE_DESIGN
    )
    campaign_send_test(campaign=campaign, recipients=["moi@example.com"])
    kept = OutboxMessage.objects.get(account=account)
    # when
    page = logged_in_client.get(f"/email/outbox/{kept.pk}/")
    # then
    names = [name for name, _value in page.context["headers"]]
    assert names[:2] == ["From", "To"]
    assert {"Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"} <= set(
        names
    )
    values = dict(page.context["headers"])
    assert values["From"] == "Boutique <news@boutique.example>"
    assert values["List-Unsubscribe"].startswith("<http")
    html = page.content.decode()
    assert "List-Unsubscribe-Post" in html and "List-Unsubscribe=One-Click" in html
    assert "<iframe sandbox " in html  # rendered, scripts off
    assert "[TEST] Nos nouveautés" in html


def test_outbox_headers_of_an_sms_or_a_broken_source_are_empty(account):
    sms = OutboxMessage(account=account, channel="sms", recipients="+33612345678", text="STOP")
    assert outbox_headers(sms) == []
    broken = OutboxMessage(account=account, raw="not a header line\n\nbody")
    assert outbox_headers(broken) == []
