"""The gallery's main call to action, personalised with an opaque contact reference, in headless
Chromium: the recipient clicks "J'en profite" in the received mail and lands on the shop with
her reference (never her address); the marketer's report counts the click on that link."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from campaigns import pipeline
from campaigns.gallery import render_mjml, template_source
from campaigns.merge_tags import contact_reference
from campaigns.models import Message
from campaigns.services import campaign_create, campaign_schedule
from contacts.models import Contact
from stats.services.ingest import ingest_pending
from tests.e2e.test_send_safeguards import enqueued  # noqa: F401 (a fixture)
from tests.e2e.test_tracking_flow import DESKTOP_CHROME
from tests.factories import ContactListFactory, ListMembershipFactory, SenderAddressFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("enqueued")  # sends go through the test's own send_batch calls
def test_the_call_to_action_of_a_gallery_template_is_tracked_and_reaches_the_shop(
    logged_in_page, browser, live_server, account, smtp_server, settings
):
    # given: the "Promotion — Commerce" template sent to Zoé
    settings.PUBLIC_BASE_URL = live_server.url
    clients = ContactListFactory(account=account, name="Clients")
    ListMembershipFactory(
        contact_list=clients, contact__email="zoe@example.com", contact__email_status="subscribed"
    )
    campaign = campaign_create(
        account=account,
        data={
            "name": "Ventes privées", "subject": "Ventes privées", "lists": [clients],
            "sender": SenderAddressFactory(account=account),
            "html": render_mjml(template_source("commerce-promotion")),
            "utm_parameters": {"utm_source": "sendethic", "utm_campaign": "ventes-privees"},
        },
    )  # fmt: skip
    campaign_schedule(campaign=campaign, at=None)
    while pipeline.send_batch(campaign.pk):
        pass
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(minutes=5))
    ((_to, received),) = smtp_server.messages
    html = received.get_body(("html",)).get_content()
    assert "zoe@example.com" not in html.replace("mailto:", "")

    # when: she clicks the button in her mail; the shop (a third-party site) is stood in for
    context = browser.new_context(user_agent=DESKTOP_CHROME, locale="fr-FR")
    context.route("https://images.example.com/**", lambda route: route.abort())
    landed = []

    def shop(route):
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Ventes privées</title>")

    context.route("https://shop.example.com/**", shop)
    inbox = context.new_page()
    inbox.set_default_timeout(15_000)
    inbox.set_content(html)
    with context.expect_page() as opened:  # the button opens a new tab (target="_blank")
        inbox.get_by_role("link", name="J'en profite").click()
    opened.value.wait_for_url(re.compile(r"^https://shop\.example\.com/ventes-privees\?"))
    context.close()

    # then: her reference, not her address, and the campaign's UTM parameters
    query = parse_qs(urlsplit(landed[-1]).query)
    assert query["ref"] == [contact_reference(Contact.objects.get(email="zoe@example.com"))]
    assert query["utm_campaign"] == ["ventes-privees"]

    # and the report counts the click on the call to action
    assert ingest_pending() >= 1
    marketer = logged_in_page
    marketer.goto(f"/stats/campaigns/{campaign.pk}/")
    assert "100" in marketer.get_by_test_id("card-clicks").inner_text()
    marketer.get_by_text("https://shop.example.com/ventes-privees?ref=").first.wait_for()
