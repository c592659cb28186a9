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
