import pytest
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import EmailCampaign, Message, SenderAddress
from contacts.models import Contact, ContactList, ListMembership
from tests.factories import AccountFactory, make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience(account):
    newsletter = ContactList.objects.create(account=account, name="Newsletter")
    for index in range(3):
        contact = Contact.objects.create(
            account=account, key=f"c{index}@example.com", email=f"c{index}@example.com",
            first_name=f"C{index}", email_status="subscribed",
        )  # fmt: skip
        ListMembership.objects.create(contact_list=newsletter, contact=contact)
    return newsletter


def test_sender_address_is_verified_by_email(api_client, client, mailoutbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client.post("/api/v1/senders/", {"email": "News@Shop.fr", "name": "Shop"})
    assert response.status_code == 201
    assert response.json()["is_verified"] is False
    link = next(word for word in mailoutbox[0].body.split() if "/senders/verify/" in word)
    assert client.get("/" + link.split("/", 3)[3]).status_code == 200
    assert SenderAddress.objects.get(email="news@shop.fr").is_verified


def test_gallery_and_campaign_lifecycle_over_the_api(api_client, account, audience, smtp_server):
    gallery = api_client.get("/api/v1/templates/gallery/").json()
    assert len(gallery) >= 8
    sender = SenderAddress.objects.create(
        account=account, email="news@shop.fr", name="Shop", verified_at=timezone.now()
    )
    created = api_client.post(
        "/api/v1/campaigns/email/",
        {
            "name": "Bienvenue",
            "subject": "Bienvenue {{ first_name }}",
            "gallery_template": "commerce-bienvenue",
            "sender": sender.pk,
            "lists": [audience.pk],
        },
    )
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    assert "{{ unsubscribe_url }}" in created.json()["html"]
    # a test send, then the real one
    sent = api_client.post(
        f"/api/v1/campaigns/email/{campaign_id}/send-test/", {"recipients": ["me@shop.fr"]}
    )
    assert sent.json() == {"sent": 1}
    assert smtp_server.messages[0][1]["Subject"].startswith("[TEST] Bienvenue")
    scheduled = api_client.post(f"/api/v1/campaigns/email/{campaign_id}/schedule/", {})
    assert scheduled.status_code == 200, scheduled.json()
    assert scheduled.json()["status"] == "running"
    assert scheduled.json()["stats"]["queued"] == 3
    # content is frozen once sending started
    edit = api_client.patch(f"/api/v1/campaigns/email/{campaign_id}/", {"subject": "x"})
    assert edit.status_code == 400
    assert api_client.post(f"/api/v1/campaigns/email/{campaign_id}/pause/").json()["status"] == (
        "paused"
    )
    again = api_client.post(f"/api/v1/campaigns/email/{campaign_id}/pause/")
    assert again.status_code == 409
    assert api_client.post(f"/api/v1/campaigns/email/{campaign_id}/resume/").status_code == 200
    cancelled = api_client.post(f"/api/v1/campaigns/email/{campaign_id}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    recipients = api_client.get(f"/api/v1/campaigns/email/{campaign_id}/recipients/").json()
    assert {r["status"] for r in recipients["results"]} == {"cancelled"}


def test_unknown_merge_tag_is_a_400(api_client):
    response = api_client.post(
        "/api/v1/campaigns/email/",
        {"name": "x", "subject": "{{ secret }}", "html": "<p>{{ first_name }}</p>"},
    )
    assert response.status_code == 400
    assert "secret" in response.json()["fields"]["subject"][0]


def test_a_test_key_runs_the_campaign_in_sandbox(account, audience, smtp_server):
    _key, plaintext = make_api_key(account, mode="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    sender = SenderAddress.objects.create(
        account=account, email="news@shop.fr", name="Shop", verified_at=timezone.now()
    )
    campaign_id = client.post(
        "/api/v1/campaigns/email/",
        {
            "name": "Sandbox",
            "subject": "Hi",
            "sender": sender.pk,
            "lists": [audience.pk],
            "html": '<a href="{{ unsubscribe_url }}">stop</a>',
        },  # fmt: skip
    ).json()["id"]
    assert client.post(f"/api/v1/campaigns/email/{campaign_id}/schedule/", {}).json()["sandbox"]
    from campaigns.pipeline import send_batch

    while send_batch(campaign_id):
        pass
    assert smtp_server.messages == []
    assert Message.objects.filter(campaign_id=campaign_id, status="sandboxed").count() == 3
    assert client.post(
        f"/api/v1/campaigns/email/{campaign_id}/send-test/", {"recipients": ["a@b.fr"]}
    ).json() == {"sent": 0}


def test_campaigns_of_another_account_are_404(api_client, account, audience):
    campaign = EmailCampaign.objects.create(account=account, name="Mine", subject="s")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(AccountFactory())[1]}")
    for path in ["", "recipients/"]:
        assert other.get(f"/api/v1/campaigns/email/{campaign.pk}/{path}").status_code == 404
    for action in ["schedule", "pause", "cancel"]:
        assert other.post(f"/api/v1/campaigns/email/{campaign.pk}/{action}/").status_code == 404
    # nor can another account point its campaign at my list
    response = other.post(
        "/api/v1/campaigns/email/", {"name": "x", "subject": "s", "lists": [audience.pk]}
    )
    assert response.status_code == 400 and "lists" in response.json()["fields"]


def test_dkim_keys_over_the_api(api_client):
    created = api_client.post("/api/v1/dkim-keys/", {"domain": "shop.fr"})
    assert created.status_code == 201
    body = created.json()
    assert body["dns_name"] == "sendethic._domainkey.shop.fr"
    assert body["dns_value"].startswith("v=DKIM1; k=rsa; p=")
    assert "private" not in str(body).lower()
    assert api_client.post("/api/v1/dkim-keys/", {"domain": "shop.fr"}).status_code == 409


def test_account_templates_compile_mjml_and_refuse_invalid_sources(api_client):
    source = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>Bonjour {{ first_name }}</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>"
    )
    created = api_client.post(
        "/api/v1/templates/", {"name": "Mon modèle", "kind": "mjml", "source": source}
    )
    assert created.status_code == 201
    assert "Bonjour {{ first_name }}" in created.json()["html"]
    assert "<table" in created.json()["html"]
    broken = api_client.post(
        "/api/v1/templates/", {"name": "Cassé", "kind": "mjml", "source": "<mjml><mj-body>"}
    )
    assert broken.status_code == 400 and "source" in broken.json()["fields"]
    raw = api_client.post("/api/v1/templates/", {"name": "HTML", "source": "<p>Salut</p>"})
    assert raw.json()["html"] == "<p>Salut</p>"
    assert [t["name"] for t in api_client.get("/api/v1/templates/").json()["results"]] == [
        "HTML",
        "Mon modèle",
    ]


def test_the_campaign_list_costs_the_same_queries_whatever_its_length(
    api_client, account, audience, django_assert_max_num_queries
):
    contacts = list(Contact.objects.filter(account=account))
    for number in range(6):
        campaign = EmailCampaign.objects.create(account=account, name=f"C{number}", subject="Hi")
        Message.objects.bulk_create(
            Message(campaign=campaign, contact=contact, email=contact.email, status=status)
            for contact, status in zip(
                contacts[: number % 3 + 1],
                ("sent", "bounced", "queued")[: number % 3 + 1],
                strict=True,
            )
        )

    def listed():
        response = api_client.get("/api/v1/campaigns/email/")
        assert response.status_code == 200
        return {item["name"]: item["stats"] for item in response.json()["results"]}

    with django_assert_max_num_queries(20) as few:
        stats = listed()
    assert stats["C2"]["sent"] == stats["C2"]["bounced"] == stats["C2"]["queued"] == 1
    assert stats["C0"] == {**dict.fromkeys(Message.Status.values, 0), "sent": 1}
    # Six more campaigns cost no more queries.
    for number in range(6, 12):
        EmailCampaign.objects.create(account=account, name=f"C{number}", subject="Hi")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed()) == 12


def test_a_patched_audience_is_what_the_answer_shows(api_client, account, audience):
    other = ContactList.objects.create(account=account, name="Other")
    created = api_client.post(
        "/api/v1/campaigns/email/", {"name": "N", "subject": "S", "lists": [audience.pk]}
    ).json()
    patched = api_client.patch(
        f"/api/v1/campaigns/email/{created['id']}/", {"lists": [other.pk]}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["lists"] == [other.pk]
    assert api_client.get(f"/api/v1/campaigns/email/{created['id']}/").json()["lists"] == [other.pk]
