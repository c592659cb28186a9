"""A marketer meets the sending safeguards, in headless Chromium (French): the checklist blocks
what is missing, the confirmation names the audience, a campaign is scheduled in the account's
time zone, unscheduled, and a past time is offered as "send now"."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.engine import lifecycle
from campaigns.models import EmailCampaign
from tests.factories import (
    ContactListFactory,
    EmailCampaignFactory,
    ListMembershipFactory,
    SenderAddressFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def enqueued():
    """Sends recorded instead of published: no worker runs here, and a task left in the broker
    would be picked up by a later test's worker (or by `make run`'s)."""
    sends = []
    previous = lifecycle._dispatch
    lifecycle.set_dispatcher(lambda channel, campaign_id: sends.append((channel, campaign_id)))
    yield sends
    lifecycle.set_dispatcher(previous)


@pytest.fixture
def campaign(account):
    clients = ContactListFactory(account=account, name="Clients")
    for email in ("zoe@example.com", "paul@example.com", "lea@example.com"):
        ListMembershipFactory(
            contact_list=clients, contact__email=email, contact__email_status="subscribed"
        )
    return EmailCampaignFactory(
        account=account,
        name="Soldes",
        subject="Les soldes",
        sender=SenderAddressFactory(account=account),
        html='<p>Soldes</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>',
        lists=[clients],
    )


def test_the_checklist_blocks_until_the_postal_address_is_set(logged_in_page, account, campaign):
    # given
    account.postal_address = ""
    account.save()
    page = logged_in_page
    # when
    page.goto(f"/email/{campaign.pk}/")
    # then
    blocking = page.get_by_test_id("checklist-postal_address")
    assert blocking.get_attribute("data-ok") == "false"
    assert "adresse postale" in blocking.inner_text()
    page.get_by_test_id("checklist-preheader").filter(has_text="pré-en-tête").wait_for()
    assert page.get_by_role("button", name="Programmer ou envoyer maintenant…").is_disabled()
    # when: the address is entered in the account settings
    blocking.get_by_role("link", name="Paramètres du compte").click()
    page.get_by_label("Adresse postale").fill("12 rue des Lilas, 69001 Lyon")
    page.get_by_role("button", name="Enregistrer").click()
    page.goto(f"/email/{campaign.pk}/")
    # then
    assert page.get_by_test_id("checklist-postal_address").get_attribute("data-ok") == "true"
    assert page.get_by_role("button", name="Programmer ou envoyer maintenant…").is_enabled()


def test_schedule_confirm_unschedule_and_a_past_time_offered_as_send_now(
    logged_in_page, account, campaign, enqueued
):
    page = logged_in_page
    year = timezone.now().year + 1
    page.goto(f"/email/{campaign.pk}/")

    # schedule: the confirmation names the date and the audience
    page.get_by_label("Date d'envoi").fill(f"{year}-12-12T09:00")
    page.get_by_role("button", name="Programmer ou envoyer maintenant…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(re.compile(r"12/12/\d{4}.*3 destinataires")).wait_for()
    # "Retour" closes the dialog without sending
    dialog.get_by_role("button", name="Retour").click()
    assert not dialog.is_visible()
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "draft"
    page.get_by_role("button", name="Programmer ou envoyer maintenant…").click()
    dialog.get_by_role("button", name="Confirmer").click()

    # the status reads true, in the account's time zone
    page.get_by_test_id("campaign-status").filter(
        has_text="Programmée pour le 12/12 à 09:00"
    ).wait_for()
    page.get_by_role("link", name="E-mailing").click()
    row = page.get_by_test_id("campaign-row").filter(has_text="Soldes")
    row.get_by_test_id("campaign-status").filter(has_text="Programmée pour le 12/12").wait_for()

    # unschedule: a draft again
    row.get_by_role("link", name="Soldes").click()
    page.get_by_role("button", name="Déprogrammer (retour en brouillon)").click()
    page.get_by_test_id("campaign-status").filter(has_text="Brouillon").wait_for()
    assert EmailCampaign.objects.get(pk=campaign.pk).scheduled_at is None

    # a time in the past is offered as "send now"
    past = timezone.localtime() - timedelta(days=1)
    page.get_by_label("Date d'envoi").fill(past.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Programmer ou envoyer maintenant…").click()
    page.get_by_role("dialog").get_by_text("Cette date est passée").wait_for()
    page.get_by_role("dialog").get_by_role("button", name="Confirmer").click()
    page.get_by_text("Envoi lancé à 3 destinataires.").wait_for()
    campaign.refresh_from_db()
    assert campaign.status == "running"
    assert campaign.messages.count() == 3
    assert enqueued and {channel for channel, _id in enqueued} == {"email"}
