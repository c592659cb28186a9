"""A new marketer signs up, is told to confirm the address before sending, follows the link
from the local outbox (the embedded default keeps mail there), then sends a test."""

import re

import pytest
from django.utils import timezone

from accounts.models import Account
from campaigns.models import EmailCampaign, SenderAddress
from contacts.models import Contact, ContactList, ListMembership
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def a_ready_campaign(account) -> EmailCampaign:
    sender = SenderAddress.objects.create(
        account=account, email="news@durand.fr", name="Durand", verified_at=timezone.now()
    )
    clients = ContactList.objects.create(account=account, name="Clients")
    contact = Contact.objects.create(
        account=account, key="zoe@example.com", email="zoe@example.com", email_status="subscribed"
    )
    ListMembership.objects.create(contact_list=clients, contact=contact)
    campaign = EmailCampaign.objects.create(
        account=account,
        name="Promo",
        subject="Promo fromages",
        sender=sender,
        html="<p>Nos fromages</p><a href='{{ unsubscribe_url }}'>Se désinscrire</a>",
    )
    campaign.lists.add(clients)
    return campaign


def test_signup_then_confirm_from_the_outbox_then_send(page, live_server, settings):
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    settings.PUBLIC_BASE_URL = live_server.url
    main = page.locator("main")

    # sign up: the account exists but may not send yet
    page.goto("/signup/")
    main.get_by_label("Société ou organisation").fill("Fromagerie Durand")
    main.get_by_label("Adresse e-mail").fill("anne@durand.fr")
    main.get_by_label("Mot de passe").fill(PASSWORD)
    main.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url(f"{live_server.url}/")
    banner = page.get_by_test_id("verify-banner")
    assert "anne@durand.fr" in banner.inner_text()
    campaign = a_ready_campaign(Account.objects.get(name="Fromagerie Durand"))

    # sending a test is refused, with the reason
    page.goto(f"/email/{campaign.pk}/")
    main.get_by_label("Adresses de test").fill("anne@durand.fr")
    main.get_by_role("button", name="Envoyer le test").click()
    page.get_by_text("Confirmez votre adresse e-mail avant d’envoyer").wait_for()

    # the banner's button sends the link again
    page.get_by_role("button", name="Renvoyer le lien").click()
    page.get_by_text("Un nouveau lien a été envoyé à anne@durand.fr.").wait_for()

    # the outbox holds the link; following it lets the account send
    page.goto("/email/outbox/")
    page.get_by_test_id("outbox-list").get_by_role("link").first.click()
    message = page.get_by_test_id("outbox-message")
    assert "anne@durand.fr" in message.inner_text()
    message.locator("a[href*='/verify-email/']").first.click()
    page.get_by_text("Votre adresse e-mail est confirmée").wait_for()
    assert page.get_by_test_id("verify-banner").count() == 0

    page.goto(f"/email/{campaign.pk}/")
    main.get_by_label("Adresses de test").fill("anne@durand.fr")
    main.get_by_role("button", name="Envoyer le test").click()
    page.get_by_text("1 e-mails de test envoyés.").wait_for()

    # the test is in this account's outbox, rendered in a sandboxed frame
    page.goto("/email/outbox/")
    page.get_by_test_id("outbox-list").get_by_role(
        "link", name=re.compile("Promo fromages")
    ).click()
    frame = page.frame_locator("[data-testid=outbox-message] iframe[sandbox]")
    frame.get_by_text("Nos fromages").wait_for()
