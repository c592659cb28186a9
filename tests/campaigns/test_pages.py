import pytest
from django.contrib.messages import get_messages
from django.core.mail import send_mail

from accounts.mail import send_account_mail
from campaigns.dkim import dkim_key_create
from campaigns.models import DkimKey, EmailCampaign, EmailTemplate, OutboxMessage, SenderAddress
from tests.factories import (
    AccountFactory,
    EmailCampaignFactory,
    EmailTemplateFactory,
    SenderAddressFactory,
)

pytestmark = pytest.mark.django_db
HOUSE_DESIGN = "<p>Notre design maison</p><a href='{{ unsubscribe_url }}'>x</a>"


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("url", ["/email/{pk}/", "/email/{pk}/preview/"])
def test_campaign_pages_of_another_account_are_404(logged_in_client, url):
    campaign = EmailCampaignFactory(account=AccountFactory(), name="Theirs")
    assert logged_in_client.get(url.format(pk=campaign.pk)).status_code == 404


@pytest.mark.parametrize("action", ["schedule", "pause", "cancel", "send-test"])
def test_campaign_actions_of_another_account_are_404(logged_in_client, action):
    campaign = EmailCampaignFactory(account=AccountFactory(), name="Theirs")
    assert logged_in_client.post(f"/email/{campaign.pk}/{action}/").status_code == 404


def test_the_outbox_shows_mail_captured_on_the_embedded_default(
    logged_in_client, account, settings
):
    # given
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    send_account_mail(
        account_id=account.pk,
        subject="Bonjour",
        message="Le corps du message",
        recipient_list=["b@example.com"],
    )
    kept = logged_in_client.get("/email/outbox/").context["kept"][0]
    # when
    opened = logged_in_client.get(f"/email/outbox/{kept.pk}/")
    # then
    assert "Le corps du message" in opened.context["opened"].text
    assert "Le corps du message" in opened.content.decode()


def test_an_account_reads_only_its_own_outbox(logged_in_client, account, settings):
    """Two accounts on one embedded default: neither lists nor opens the other's mail."""
    # given
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    other = AccountFactory()
    send_account_mail(
        account_id=account.pk, subject="Mine", message="mine", recipient_list=["a@example.com"]
    )
    send_account_mail(
        account_id=other.pk, subject="Theirs", message="secret", recipient_list=["b@example.com"]
    )
    send_mail("No account", "reset link", "x@example.com", ["c@example.com"])
    theirs = OutboxMessage.objects.get(account=other)
    # when
    listing = logged_in_client.get("/email/outbox/")
    # then
    assert [m.subject for m in listing.context["kept"]] == ["Mine"]
    assert "Theirs" not in listing.content.decode()
    assert logged_in_client.get(f"/email/outbox/{theirs.pk}/").status_code == 404
    unowned = OutboxMessage.objects.get(account=None)
    assert logged_in_client.get(f"/email/outbox/{unowned.pk}/").status_code == 404


def test_the_outbox_is_empty_where_mail_is_delivered(logged_in_client, settings):
    settings.EMAIL_BACKEND = "campaigns.backends.DkimSigningSmtpBackend"
    response = logged_in_client.get("/email/outbox/")
    assert response.context["enabled"] is False


def test_a_campaign_without_content_is_not_saved_as_a_template(logged_in_client, account):
    # given
    empty = EmailCampaignFactory(account=account, name="Vide")
    # when
    response = logged_in_client.post(f"/email/{empty.pk}/save-template/")
    # then
    assert response.status_code == 302
    assert flashed(response) == ["La campagne n'a aucun contenu."]
    assert not EmailTemplate.objects.exists()


def test_a_campaign_is_saved_as_a_template(logged_in_client, account):
    # given
    campaign = EmailCampaignFactory(account=account, name="Noël", html=HOUSE_DESIGN)
    # when
    response = logged_in_client.post(
        f"/email/{campaign.pk}/save-template/", {"template_name": "Maison"}
    )
    # then
    assert response.status_code == 302
    saved = EmailTemplate.objects.get(account=account)
    assert (saved.name, saved.kind, saved.html) == ("Maison", "html", HOUSE_DESIGN)
    assert b"Maison" in logged_in_client.get("/email/new/").content


def test_a_saved_template_starts_another_campaign(logged_in_client, account):
    # given
    saved = EmailTemplateFactory(account=account, name="Maison", source=HOUSE_DESIGN)
    # when
    created = logged_in_client.post("/email/new/", {"account_template": saved.pk})
    # then
    new = EmailCampaign.objects.latest("pk")
    assert created["Location"] == f"/email/{new.pk}/"
    assert (new.html, new.name) == (HOUSE_DESIGN, "Maison")


def test_a_saved_template_is_deleted(logged_in_client, account):
    saved = EmailTemplateFactory(account=account)
    assert logged_in_client.post(f"/email/templates/{saved.pk}/delete/").status_code == 302
    assert not EmailTemplate.objects.exists()


def test_another_accounts_template_cannot_be_used_or_deleted(logged_in_client):
    # given
    theirs = EmailTemplateFactory(account=AccountFactory(), name="Secret")
    # when
    used = logged_in_client.post("/email/new/", {"account_template": theirs.pk})
    deleted = logged_in_client.post(f"/email/templates/{theirs.pk}/delete/")
    # then
    assert used.status_code == 404
    assert deleted.status_code == 404
    assert b"Secret" not in logged_in_client.get("/email/new/").content
    assert EmailTemplate.objects.filter(pk=theirs.pk).exists()


def test_an_unknown_merge_tag_is_shown_beside_the_subject(logged_in_client, account):
    # given
    campaign = EmailCampaignFactory(account=account)
    # when
    response = logged_in_client.post(
        f"/email/{campaign.pk}/", {"name": "Soldes", "subject": "{{ secret }}", "html": "<p>x</p>"}
    )
    # then
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["subject"]
    assert "secret" in form.errors["subject"][0]
    campaign.refresh_from_db()
    assert campaign.subject == "Hello"


def test_a_campaign_that_started_sending_is_not_changed_from_its_page(logged_in_client, account):
    # given
    campaign = EmailCampaignFactory(account=account, status=EmailCampaign.Status.RUNNING)
    # when
    response = logged_in_client.post(
        f"/email/{campaign.pk}/", {"name": "Renamed", "subject": "New", "html": ""}
    )
    # then: the status is not a field of the form, so the reason is shown above it
    assert response.context["form"].non_field_errors() == [
        "Une campagne ne peut plus être modifiée une fois l'envoi commencé."
    ]
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"


def test_a_campaign_missing_its_sender_is_not_sent(logged_in_client, account):
    # given
    campaign = EmailCampaignFactory(account=account, html=HOUSE_DESIGN)
    # when
    response = logged_in_client.post(f"/email/{campaign.pk}/schedule/")
    # then
    assert "Choisissez une adresse d'expéditeur vérifiée." in flashed(response)
    campaign.refresh_from_db()
    assert campaign.status == EmailCampaign.Status.DRAFT


def test_test_addresses_are_checked_before_sending(logged_in_client, account, mailoutbox):
    # given
    campaign = EmailCampaignFactory(account=account, html=HOUSE_DESIGN)
    # when
    response = logged_in_client.post(
        f"/email/{campaign.pk}/send-test/", {"recipients": "not an address"}
    )
    # then
    assert flashed(response) == ["Saisissez une adresse e-mail valide."]
    assert mailoutbox == []


def test_a_known_sender_address_is_refused_beside_its_field(logged_in_client, account):
    # given
    SenderAddressFactory(account=account, email="news@shop.fr")
    # when
    response = logged_in_client.post("/email/senders/", {"email": "news@shop.fr", "name": "Shop"})
    # then
    assert response.status_code == 200
    assert response.context["sender_form"].errors == {
        "email": ["Cette adresse d'expéditeur existe déjà."]
    }
    assert SenderAddress.objects.filter(account=account).count() == 1


def test_a_second_dkim_key_for_a_domain_is_refused_on_its_form(logged_in_client, account):
    # given
    dkim_key_create(account=account, domain="shop.fr")
    # when
    response = logged_in_client.post("/email/senders/", {"domain": "shop.fr"})
    # then
    assert response.status_code == 200
    assert response.context["dkim_form"].non_field_errors() == [
        "A DKIM key already exists for shop.fr."
    ]
    assert b"A DKIM key already exists for shop.fr." in response.content
    assert DkimKey.objects.filter(account=account).count() == 1
