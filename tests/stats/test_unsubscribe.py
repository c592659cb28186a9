"""One-click unsubscribe (RFC 8058) and the preference page."""

import re

import pytest
from django.test import Client

from campaigns import pipeline
from campaigns.services import campaign_create, campaign_schedule
from contacts.models import ListMembership, Suppression, address_hash
from stats.models import CampaignStats, EmailEvent
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SenderAddressFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(account, smtp_server):
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    news = ContactListFactory(account=account, name="Newsletter")
    offers = ContactListFactory(account=account, name="Bons plans")
    contact = ContactFactory(account=account, email="zoe@example.com", email_status="subscribed")
    for item in (news, offers):
        ListMembershipFactory(contact_list=item, contact=contact)
    campaign = campaign_create(
        account=account,
        data={"name": "N", "subject": "S", "sender": sender, "lists": [news],
              "html": '<p>Hi</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>'},
    )  # fmt: skip
    campaign_schedule(campaign=campaign, at=None)
    while pipeline.send_batch(campaign.pk):
        pass
    ((_to, message),) = smtp_server.messages
    header = message["List-Unsubscribe"].strip().strip("<>")
    path = "/" + header.split("/", 3)[3]
    html = message.get_body(("html",)).get_content()
    assert re.search(r'href="[^"]*' + re.escape(path) + '"', html)  # the visible link
    return campaign, contact, path, news, offers


def test_one_click_post_unsubscribes_from_all_email_once(received):
    campaign, contact, path, *_ = received
    mail_client = Client(enforce_csrf_checks=True)  # no cookie, no CSRF token
    for _attempt in range(2):
        response = mail_client.post(path, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.email_status == "unsubscribed"
    assert Suppression.objects.filter(
        address_hash=address_hash("zoe@example.com"), reason="unsubscribed"
    ).exists()
    event = EmailEvent.objects.get(kind="unsubscribe")
    assert event.source == "one-click" and event.contact == contact
    assert CampaignStats.objects.get(campaign=campaign).unsubscribes == 1
    assert contact.consent_records.filter(status="unsubscribed", source="unsubscribe").exists()


def test_preference_page_offers_lists_and_unsubscribes_from_some_only(received, client):
    campaign, contact, path, news, offers = received
    page = client.get(path)
    assert page.status_code == 200
    assert b"Newsletter" in page.content and b"Bons plans" in page.content
    assert client.post(path, {"scope": "lists"}).status_code == 400  # no list chosen
    response = client.post(path, {"scope": "lists", "lists": [str(offers.pk)]})
    assert response.status_code == 200 and b"Bons plans" in response.content
    contact.refresh_from_db()
    assert contact.email_status == "subscribed"  # still gets the newsletter
    statuses = dict(
        ListMembership.objects.filter(contact=contact).values_list("contact_list__name", "status")
    )
    assert statuses == {"Newsletter": "subscribed", "Bons plans": "unsubscribed"}
    assert EmailEvent.objects.get(kind="unsubscribe").detail.endswith("Bons plans")


def test_another_accounts_list_cannot_be_named(received, client):
    campaign, contact, path, *_ = received
    foreign = ContactListFactory(account=AccountFactory(), name="Ailleurs")
    response = client.post(path, {"scope": "lists", "lists": [str(foreign.pk)]})
    assert response.status_code == 400
    assert not EmailEvent.objects.exists()


def test_page_post_for_all_email(received, client):
    campaign, contact, path, *_ = received
    assert client.post(path, {"scope": "all"}).status_code == 200
    contact.refresh_from_db()
    assert contact.email_status == "unsubscribed"
    assert EmailEvent.objects.get(kind="unsubscribe").source == "unsubscribe page"
