"""A marketer keeps a campaign's design as their own template and starts the next one from it,
in headless Chromium."""

import re

import pytest

from campaigns.models import EmailCampaign
from tests.factories import EmailCampaignFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_save_a_campaign_as_a_template_then_start_from_it(logged_in_page, account):
    html = '<h1>Design maison</h1><p><a href="{{ unsubscribe_url }}">Se désinscrire</a></p>'
    campaign = EmailCampaignFactory(account=account, name="Soldes", subject="Soldes", html=html)
    page = logged_in_page
    page.goto(f"/email/{campaign.pk}/")
    page.get_by_label("Nom du modèle").fill("Notre charte")
    page.get_by_role("button", name="Enregistrer comme modèle").click()
    page.get_by_text("Enregistré dans vos modèles").wait_for()

    page.goto("/email/new/")
    page.get_by_test_id("account-template").filter(has_text="Notre charte").wait_for()
    page.get_by_role("button", name="Utiliser le modèle Notre charte").click()
    page.wait_for_url(re.compile(r"/email/\d+/$"))
    created = EmailCampaign.objects.latest("pk")
    assert created.pk != campaign.pk and created.html == html
    assert page.get_by_label("Nom", exact=True).input_value() == "Notre charte"
