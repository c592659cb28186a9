import pytest
from django.core.mail import send_mail

from campaigns.models import EmailCampaign
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_campaign_pages_of_another_account_are_404(logged_in_client):
    campaign = EmailCampaign.objects.create(account=AccountFactory(), name="Theirs", subject="s")
    for url in [f"/email/{campaign.pk}/", f"/email/{campaign.pk}/preview/"]:
        assert logged_in_client.get(url).status_code == 404, url
    for action in ["schedule", "pause", "cancel", "send-test"]:
        assert logged_in_client.post(f"/email/{campaign.pk}/{action}/").status_code == 404


def test_the_outbox_shows_mail_captured_on_the_embedded_default(
    logged_in_client, settings, tmp_path
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send_mail("Bonjour", "Le corps du message", "a@example.com", ["b@example.com"])
    page = logged_in_client.get("/email/outbox/")
    name = page.context["files"][0]
    opened = logged_in_client.get(f"/email/outbox/?file={name}")
    assert "Le corps du message" in opened.context["opened"]
    assert logged_in_client.get("/email/outbox/?file=../../etc/passwd").status_code == 404


def test_a_campaign_is_saved_as_a_template_and_starts_another(logged_in_client, account):
    from campaigns.models import EmailTemplate

    html = "<p>Notre design maison</p><a href='{{ unsubscribe_url }}'>x</a>"
    campaign = EmailCampaign.objects.create(account=account, name="Noël", subject="s", html=html)
    empty = EmailCampaign.objects.create(account=account, name="Vide", subject="s")
    assert logged_in_client.post(f"/email/{empty.pk}/save-template/").status_code == 302
    assert not EmailTemplate.objects.exists()  # nothing to save
    response = logged_in_client.post(
        f"/email/{campaign.pk}/save-template/", {"template_name": "Maison"}
    )
    assert response.status_code == 302
    saved = EmailTemplate.objects.get(account=account)
    assert (saved.name, saved.kind, saved.html) == ("Maison", "html", html)
    gallery = logged_in_client.get("/email/new/")
    assert b"Maison" in gallery.content
    created = logged_in_client.post("/email/new/", {"account_template": saved.pk})
    new = EmailCampaign.objects.latest("pk")
    assert created["Location"] == f"/email/{new.pk}/" and new.html == html and new.name == "Maison"
    assert logged_in_client.post(f"/email/templates/{saved.pk}/delete/").status_code == 302
    assert not EmailTemplate.objects.exists()


def test_another_accounts_template_cannot_be_used_or_deleted(logged_in_client):
    from campaigns.models import EmailTemplate

    theirs = EmailTemplate.objects.create(
        account=AccountFactory(), name="Secret", source="<p>x</p>", html="<p>x</p>"
    )
    assert logged_in_client.post("/email/new/", {"account_template": theirs.pk}).status_code == 404
    assert logged_in_client.post(f"/email/templates/{theirs.pk}/delete/").status_code == 404
    assert b"Secret" not in logged_in_client.get("/email/new/").content
    assert EmailTemplate.objects.filter(pk=theirs.pk).exists()
