"""The outbox shows a kept campaign message rendered, with its envelope and headers, on a
phone (one pane at a time) and at desktop width (list beside message)."""

import re

import pytest

from campaigns.models import OutboxMessage
from campaigns.services import campaign_send_test
from tests.factories import EmailCampaignFactory, SenderAddressFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESIGN = (
    "<table width='600'><tr><td><h1>Bonjour {{ first_name | default:\"à vous\" }}</h1>"
    "<a href='https://boutique.example/soldes'>J'en profite</a>"
    "<a href='{{ unsubscribe_url }}'>Se désinscrire</a></td></tr></table>"
)


@pytest.fixture
def kept(account, settings):
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    account.email_verified_at = account.created_at
    account.postal_address = "12 rue des Lilas, 69001 Lyon"
    account.save()
    sender = SenderAddressFactory(account=account, email="news@boutique.example", name="Boutique")
    campaign = EmailCampaignFactory(
        account=account, sender=sender, subject="Les soldes commencent", html=DESIGN
    )
    campaign_send_test(campaign=campaign, recipients=["moi@example.com"])
    return OutboxMessage.objects.get(account=account)


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 768}]
)
def test_outbox_message_rendered_with_its_headers(logged_in_page, kept, viewport):
    page = logged_in_page
    page.set_viewport_size(viewport)
    page.goto("/email/outbox/")
    page.get_by_test_id("outbox-list").get_by_role("link", name=re.compile("Les soldes")).click()

    message = page.get_by_test_id("outbox-message")
    assert message.get_by_role("heading").inner_text() == "[TEST] Les soldes commencent"
    assert message.get_by_test_id("outbox-from").inner_text() == "Boutique <news@boutique.example>"
    assert message.get_by_test_id("outbox-to").inner_text() == "moi@example.com"
    headers = message.get_by_test_id("outbox-headers")
    assert headers.is_visible()
    text = headers.inner_text()
    for name in ("Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "Date", "Precedence"):
        assert name in text
    assert "List-Unsubscribe=One-Click" in text
    # the HTML rendered in its sandbox, as the recipient will see it
    frame = page.frame_locator("iframe.outbox-frame")
    frame.get_by_role("heading", name="Bonjour à vous").wait_for()
    assert page.locator("iframe.outbox-frame").get_attribute("sandbox") == ""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    list_shown = page.get_by_test_id("outbox-list").is_visible()
    if viewport["width"] < 768:  # one pane at a time, and a way back
        assert not list_shown
        page.get_by_role("link", name="Retour à la liste").click()
        page.get_by_test_id("outbox-list").wait_for()
    else:
        assert list_shown
