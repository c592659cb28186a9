"""A marketer writes an SMS campaign in headless Chromium: the live counter, the characters that
force UCS-2 replaced in one click, a test send, the send, the outbox, the report."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from campaigns.engine.sending import send_batch
from sms.channel import SMS
from sms.models import SmsCampaign
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsSenderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WEDNESDAY_11H_PARIS = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)


def test_sms_campaign_from_editor_to_outbox_and_report(
    logged_in_page, live_server, account, monkeypatch
):
    from django.utils import timezone

    SmsSenderFactory(account=account, value="Boutique")
    clients = ContactListFactory(account=account, name="Clients")
    for mobile, name in [("+33612345678", "Zoé"), ("+33612345679", "Paul")]:
        ListMembershipFactory(
            contact_list=clients,
            contact=ContactFactory(
                account=account, mobile=mobile, first_name=name, sms_status="subscribed"
            ),
        )
    page = logged_in_page
    # inside the legal hours (the server runs in this process)
    monkeypatch.setattr(timezone, "now", lambda: WEDNESDAY_11H_PARIS)

    page.get_by_role("link", name="SMS", exact=True).first.click()
    page.get_by_role("link", name="Nouvelle campagne SMS").first.click()
    page.get_by_label("Nom").fill("Soldes")
    page.get_by_label("Expéditeur").select_option(label="Boutique")
    page.get_by_label("Envoyer aux listes").select_option(label="Clients")
    text = page.get_by_label("Texte du SMS")

    # the counter: a typographic apostrophe and a ê force UCS-2, replaced in one click
    text.fill("{{ first_name }}, c’est la fête : -30 % ce week-end !")
    page.get_by_role("button", name="Ajouter la mention").click()
    counter = page.get_by_test_id("sms-counter")
    # the summary, not the whole counter: its hint about UCS-2 is always in the page, hidden
    summary = page.get_by_test_id("sms-counter-summary")
    expect(summary).to_contain_text("UCS-2")
    expect(page.get_by_test_id("ucs2-character")).to_have_text(["’", "ê"])
    page.get_by_role("button", name="Les remplacer").click()
    expect(summary).to_contain_text("GSM-7")
    assert (
        text.input_value() == "{{ first_name }}, c'est la fete : -30 % ce week-end !\nSTOP au 36180"
    )
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/sms/\d+/$"))
    campaign = SmsCampaign.objects.get(account=account)

    # the audience's cost, and the phone preview as a chosen contact
    counter.filter(has_text="2 destinataires").wait_for()
    page.get_by_label("Aperçu en tant que").select_option(label="Zoé (+33612345678)")
    page.get_by_test_id("sms-preview").filter(has_text="Zoé, c'est la fete").wait_for()

    # test send, then the send itself
    page.get_by_label("Numéro de portable").fill("+33699999999")
    page.get_by_role("button", name="Envoyer un test").click()
    page.get_by_text("SMS de test envoyé.").wait_for()
    page.get_by_role("button", name="Envoyer la campagne").click()
    page.get_by_test_id("sms-status").filter(has_text="En cours d'envoi").wait_for()
    # the worker's part (the engine, as a Celery worker of the `sms` queue runs it)
    while send_batch(SMS, campaign.pk):
        pass

    page.get_by_role("link", name="Boîte d'envoi SMS").first.click()
    outbox = page.get_by_test_id("sms-outbox")
    outbox.filter(has_text="+33612345679").wait_for()
    assert outbox.locator("li").count() == 3  # the test and the two clients

    page.goto(f"{live_server.url}/sms/{campaign.pk}/")
    assert page.get_by_test_id("sms-sent").text_content() == "2"
    assert page.get_by_test_id("sms-segments").text_content() == "2"
    # the chart over time (Chart.js draws it), its figures in the table beside it
    page.locator("#sms-activity-chart[data-ready=true]").wait_for()
    page.get_by_text("Les chiffres sous forme de tableau").click()
    rows = page.get_by_test_id("sms-activity-table").locator("tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").all_text_contents()[1:] == ["2", "0", "0", "0", "0"]
