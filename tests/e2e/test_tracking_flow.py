"""The recipient's side of tracking, in headless Chromium: a campaign is delivered to a real SMTP
server, the received mail is opened in the browser (the pixel loads), its link followed (the
click lands on the shop, UTM parameters added) and its unsubscribe page used; the marketer's
report then shows the open, the click and the unsubscribe."""

import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from campaigns import pipeline
from campaigns.models import Message
from campaigns.services import campaign_create, campaign_schedule
from contacts.models import Contact
from stats.services.ingest import ingest_pending
from tests.factories import ContactListFactory, ListMembershipFactory, SenderAddressFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


class ShopPage(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"<html><head><title>La Boutique - Soldes</title></head><body>Soldes</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_open_click_and_unsubscribe_show_in_the_report(
    logged_in_page, browser, live_server, account, smtp_server, shop, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    clients = ContactListFactory(account=account, name="Clients")
    for email in ("zoe@example.com", "paul@example.com"):
        ListMembershipFactory(
            contact_list=clients, contact__email=email, contact__email_status="subscribed"
        )
    campaign = campaign_create(
        account=account,
        data={
            "name": "Soldes d'été", "subject": "Les soldes", "sender": sender, "lists": [clients],
            "utm_parameters": {"utm_source": "sendethic", "utm_campaign": "ete"},
            "html": f'<html><body><h1>Soldes</h1><a href="{shop}/soldes">Voir les soldes</a>'
            '<p><a href="{{ unsubscribe_url }}">Se désinscrire</a></p></body></html>',
        },
    )  # fmt: skip
    campaign_schedule(campaign=campaign, at=None)
    while pipeline.send_batch(campaign.pk):
        pass
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(minutes=5))
    received = {to[0]: message for to, message in smtp_server.messages}
    html = received["zoe@example.com"].get_body(("html",)).get_content()

    marketer = logged_in_page
    report_url = f"/stats/campaigns/{campaign.pk}/"
    marketer.goto(report_url)
    marketer.get_by_test_id("card-sent").filter(has_text="2").wait_for()
    assert "0" in marketer.get_by_test_id("card-clicks").inner_text()

    # Zoé reads the mail in her browser: the pixel loads, she follows the link.
    context = browser.new_context(user_agent=DESKTOP_CHROME, locale="fr-FR")
    inbox = context.new_page()
    inbox.set_default_timeout(15_000)
    with inbox.expect_response(re.compile(r"/t/o/.+\.gif$")) as pixel:
        inbox.set_content(html)
    assert pixel.value.status == 200
    inbox.get_by_role("link", name="Voir les soldes").click()
    inbox.wait_for_url(
        re.compile(re.escape(shop) + r"/soldes\?utm_source=sendethic&utm_campaign=ete")
    )
    assert inbox.title() == "La Boutique - Soldes"

    # Then she unsubscribes through the mail's link and its confirmation page.
    inbox.set_content(html)
    inbox.get_by_role("link", name="Se désinscrire").click()
    inbox.get_by_role("button", name="Se désinscrire").click()
    inbox.get_by_text("Vous êtes désinscrit").wait_for()
    context.close()
    assert Contact.objects.get(email="zoe@example.com").email_status == "unsubscribed"

    # The worker folds the hits in (beat runs it every few seconds); the report shows them.
    assert ingest_pending() == 3  # two opens (the mail shown twice), one click
    marketer.reload()
    assert "50" in marketer.get_by_test_id("card-opens").inner_text()
    assert "50" in marketer.get_by_test_id("card-clicks").inner_text()
    assert "1" in marketer.get_by_test_id("card-unsubscribes").inner_text()
    marketer.get_by_text(f"{shop}/soldes").first.wait_for()
