"""A marketer turns on short links in the SMS editor: the counter counts the short link instead
of the long address, the recipient's click goes through the redirect to the page, and the
report counts it."""

import re
from datetime import UTC, datetime

import pytest

from campaigns.engine.sending import send_batch
from sms.channel import SMS
from sms.models import OutboxSms
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WEDNESDAY_11H_PARIS = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)


def test_short_links_are_counted_short_followed_and_reported(
    logged_in_page, live_server, account, settings, monkeypatch
):
    from django.utils import timezone

    settings.PUBLIC_BASE_URL = live_server.url
    monkeypatch.setattr(timezone, "now", lambda: WEDNESDAY_11H_PARIS)
    clients = ContactListFactory(account=account, name="Clients")
    ListMembershipFactory(
        contact_list=clients,
        contact=ContactFactory(account=account, mobile="+33612345678", sms_status="subscribed"),
    )
    # a long address of the platform's own site (tests reach nothing else)
    target = f"{live_server.url}/robots.txt?utm_source=sms&utm_campaign=soldes-d-ete-2025&" + (
        "x" * 90
    )
    campaign = SmsCampaignFactory(
        account=account, lists=[clients], text=f"Soldes : {target} STOP au 36180"
    )
    page = logged_in_page
    page.goto(f"/sms/{campaign.pk}/")
    counter = page.get_by_test_id("sms-counter")
    counter.filter(has_text=re.compile(r"· 2 SMS")).wait_for()

    page.get_by_label("Raccourcir et suivre les liens").check()
    counter.filter(has_text=re.compile(r"· 1 SMS")).wait_for()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Campagne enregistrée.").wait_for()
    page.get_by_role("button", name="Envoyer la campagne").click()
    page.get_by_test_id("sms-status").filter(has_text="En cours d'envoi").wait_for()
    while send_batch(SMS, campaign.pk):
        pass

    sent = OutboxSms.objects.get(account=account)
    assert sent.segments == 1 and target not in sent.text
    short = re.search(rf"{re.escape(live_server.url)}/t/s/\w+", sent.text).group()
    page.goto(short)
    assert page.url == target

    page.goto(f"/sms/{campaign.pk}/")
    assert page.get_by_test_id("sms-clicks").text_content().strip() == "1 (par 1 destinataire)"
