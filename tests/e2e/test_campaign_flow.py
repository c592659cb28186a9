"""A marketer sends a campaign from the gallery, in headless Chromium, with a real Celery worker
delivering to a real SMTP server; the recipient then unsubscribes from the received mail."""

import re

import pytest

from contacts.models import Contact
from tests.factories import ContactListFactory, ListMembershipFactory, SenderAddressFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_campaign_from_gallery_to_inbox_and_unsubscribe(
    logged_in_page, live_server, account, smtp_server, celery_worker, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    account.postal_address = "12 rue des Lilas, 69001 Lyon"
    account.save()
    SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    clients = ContactListFactory(account=account, name="Clients")
    for email, name in [("zoe@example.com", "Zoé"), ("paul@example.com", "Paul")]:
        ListMembershipFactory(
            contact_list=clients,
            contact__email=email,
            contact__first_name=name,
            contact__email_status="subscribed",
        )
    page = logged_in_page

    # pick a template from the gallery
    page.get_by_role("link", name="E-mailing").click()
    page.get_by_role("button", name="Nouvelle campagne").click()
    page.get_by_role("button", name=re.compile("Promotion — Commerce")).click()
    page.wait_for_url(re.compile(r"/email/\d+/$"))

    # details and audience, with a live recipient count
    page.get_by_label("Objet").fill("{{ first_name }}, -30 % ce week-end")
    page.get_by_label("Envoyer aux listes").select_option(label="Clients")
    page.get_by_test_id("audience-count").filter(has_text="2").wait_for()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.get_by_text("Campagne enregistrée.").wait_for()

    # a test send
    page.get_by_label("Adresses de test").fill("moi@boutique.fr")
    page.get_by_role("button", name="Envoyer le test").click()
    page.get_by_text("1 e-mails de test envoyés.").wait_for()
    assert smtp_server.messages[0][1]["Subject"].startswith("[TEST]")

    # the checklist has no blocking item left, and the test ticked its own
    assert page.get_by_test_id("checklist-test_sent").get_attribute("data-ok") == "true"
    assert page.get_by_test_id("checklist-recipients").get_attribute("data-ok") == "true"

    # send now, after a confirmation that names the audience count
    page.get_by_role("button", name="Programmer ou envoyer maintenant…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("send-confirm-text").filter(
        has_text="maintenant à 2 destinataires"
    ).wait_for()
    dialog.get_by_role("button", name="Confirmer").click()
    page.get_by_text("Envoi lancé à 2 destinataires.").wait_for()
    page.get_by_test_id("campaign-status").filter(has_text="Envoyée le").wait_for(timeout=60_000)
    received = {to[0]: message for to, message in smtp_server.messages[1:]}
    assert set(received) == {"zoe@example.com", "paul@example.com"}
    assert received["zoe@example.com"]["Subject"] == "Zoé, -30 % ce week-end"

    # the recipient follows the unsubscribe link of the mail they received
    html = received["zoe@example.com"].get_body(("html",)).get_content()
    link = re.search(r'href="([^"]+/email/u/[^"]+)"', html).group(1)
    recipient = page.context.browser.new_page()
    recipient.goto(link)
    recipient.get_by_role("button", name="Se désinscrire").click()
    recipient.get_by_text("Vous êtes désinscrit").wait_for()
    assert Contact.objects.get(email="zoe@example.com").email_status == "unsubscribed"
