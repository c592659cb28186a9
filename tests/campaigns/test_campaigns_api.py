import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from campaigns.models import EmailCampaign, Message, SenderAddress
from contacts.models import Contact
from tests.factories import (
    AccountFactory,
    ContactListFactory,
    EmailCampaignFactory,
    ListMembershipFactory,
    MessageFactory,
    SenderAddressFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db
CAMPAIGNS = "/api/v1/campaigns/email/"


@pytest.fixture
def audience(account):
    newsletter = ContactListFactory(account=account, name="Newsletter")
    for index in range(3):
        ListMembershipFactory(
            contact_list=newsletter,
            contact__email=f"c{index}@example.com",
            contact__first_name=f"C{index}",
            contact__email_status="subscribed",
        )
    return newsletter


@pytest.fixture
def sender(account):
    return SenderAddressFactory(account=account, email="news@shop.fr", name="Shop")


@pytest.fixture
def campaign_id(api_client, sender, audience):
    """A campaign made over the API from a gallery template, ready to send."""
    created = api_client.post(
        CAMPAIGNS,
        {
            "name": "Bienvenue",
            "subject": "Bienvenue {{ first_name }}",
            "gallery_template": "commerce-bienvenue",
            "sender": sender.pk,
            "lists": [audience.pk],
        },
    )
    assert created.status_code == 201, created.json()
    return created.json()["id"]


@pytest.fixture
def running_campaign_id(api_client, campaign_id):
    scheduled = api_client.post(f"{CAMPAIGNS}{campaign_id}/schedule/", {})
    assert scheduled.status_code == 200, scheduled.json()
    return campaign_id


def bearer(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_sender_address_is_verified_by_email(api_client, client, mailoutbox):
    # when
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client.post("/api/v1/senders/", {"email": "News@Shop.fr", "name": "Shop"})
    link = next(word for word in mailoutbox[0].body.split() if "/senders/verify/" in word)
    confirmed = client.get("/" + link.split("/", 3)[3])
    # then
    assert response.status_code == 201
    assert response.json()["is_verified"] is False
    assert confirmed.status_code == 200
    assert SenderAddress.objects.get(email="news@shop.fr").is_verified


def test_a_second_sender_with_the_same_address_is_a_409(api_client, sender):
    # when
    response = api_client.post("/api/v1/senders/", {"email": sender.email, "name": "Again"})
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "sender_exists"
    assert response.json()["fields"] == {"email": ["This sender address already exists."]}


def test_a_sender_used_by_a_campaign_cannot_be_deleted(api_client, account, sender):
    # given
    EmailCampaignFactory(account=account, sender=sender)
    # when
    response = api_client.delete(f"/api/v1/senders/{sender.pk}/")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "sender_in_use"
    assert response.json()["message"] == "Campaigns use this sender address."
    assert SenderAddress.objects.filter(pk=sender.pk).exists()


def test_an_unused_sender_is_deleted(api_client, sender):
    assert api_client.delete(f"/api/v1/senders/{sender.pk}/").status_code == 204
    assert not SenderAddress.objects.filter(pk=sender.pk).exists()


def test_the_gallery_offers_the_starter_templates(api_client):
    assert len(api_client.get("/api/v1/templates/gallery/").json()) >= 8


def test_a_campaign_from_the_gallery_carries_the_unsubscribe_link(api_client, campaign_id):
    html = api_client.get(f"{CAMPAIGNS}{campaign_id}/").json()["html"]
    assert "{{ unsubscribe_url }}" in html


def test_a_test_send_is_delivered_with_a_marked_subject(api_client, campaign_id, smtp_server):
    # when
    sent = api_client.post(f"{CAMPAIGNS}{campaign_id}/send-test/", {"recipients": ["me@shop.fr"]})
    # then
    assert sent.json() == {"sent": 1}
    assert smtp_server.messages[0][1]["Subject"].startswith("[TEST] Bienvenue")


def test_sending_now_queues_one_message_per_recipient(api_client, campaign_id):
    # when
    scheduled = api_client.post(f"{CAMPAIGNS}{campaign_id}/schedule/", {})
    # then
    assert scheduled.status_code == 200, scheduled.json()
    assert scheduled.json()["status"] == "running"
    assert scheduled.json()["stats"]["queued"] == 3


def test_content_is_frozen_once_sending_started(api_client, running_campaign_id):
    # when
    edit = api_client.patch(f"{CAMPAIGNS}{running_campaign_id}/", {"subject": "x"})
    # then: a state conflict (409), as the schema documents
    assert edit.status_code == 409
    assert edit.json()["code"] == "not_editable"
    assert set(edit.json()["fields"]) == {"status"}


def test_a_sent_campaign_cannot_be_scheduled_again(api_client, running_campaign_id):
    again = api_client.post(f"{CAMPAIGNS}{running_campaign_id}/schedule/", {})
    assert again.status_code == 409
    assert set(again.json()["fields"]) == {"status"}


def test_a_running_campaign_pauses(api_client, running_campaign_id):
    paused = api_client.post(f"{CAMPAIGNS}{running_campaign_id}/pause/")
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"


def test_pausing_a_paused_campaign_is_a_conflict(api_client, running_campaign_id):
    # given
    api_client.post(f"{CAMPAIGNS}{running_campaign_id}/pause/")
    # when
    again = api_client.post(f"{CAMPAIGNS}{running_campaign_id}/pause/")
    # then
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_status"
    assert again.json()["message"] == "Cannot pause a campaign that is paused."


def test_a_paused_campaign_resumes(api_client, running_campaign_id):
    # given
    api_client.post(f"{CAMPAIGNS}{running_campaign_id}/pause/")
    # when
    resumed = api_client.post(f"{CAMPAIGNS}{running_campaign_id}/resume/")
    # then
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "running"


def test_cancelling_drops_the_messages_not_yet_sent(api_client, running_campaign_id):
    # when
    cancelled = api_client.post(f"{CAMPAIGNS}{running_campaign_id}/cancel/")
    # then
    assert cancelled.json()["status"] == "cancelled"
    recipients = api_client.get(f"{CAMPAIGNS}{running_campaign_id}/recipients/").json()
    assert {r["status"] for r in recipients["results"]} == {"cancelled"}


def test_only_a_draft_can_be_deleted(api_client, account):
    # given
    running = EmailCampaignFactory(account=account, status=EmailCampaign.Status.RUNNING)
    # when
    response = api_client.delete(f"{CAMPAIGNS}{running.pk}/")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "not_draft"
    assert EmailCampaign.objects.filter(pk=running.pk).exists()


def test_a_draft_is_deleted(api_client, account):
    draft = EmailCampaignFactory(account=account)
    assert api_client.delete(f"{CAMPAIGNS}{draft.pk}/").status_code == 204
    assert not EmailCampaign.objects.filter(pk=draft.pk).exists()


def test_unknown_merge_tag_is_a_400(api_client):
    response = api_client.post(
        CAMPAIGNS, {"name": "x", "subject": "{{ secret }}", "html": "<p>{{ first_name }}</p>"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "secret" in response.json()["fields"]["subject"][0]


@pytest.fixture
def sandbox_campaign_id(account, audience, sender):
    """A campaign scheduled with a test key: it runs in sandbox."""
    client = bearer(make_api_key(account, mode="test")[1])
    campaign_id = client.post(
        CAMPAIGNS,
        {
            "name": "Sandbox",
            "subject": "Hi",
            "sender": sender.pk,
            "lists": [audience.pk],
            "html": '<a href="{{ unsubscribe_url }}">stop</a>',
        },  # fmt: skip
    ).json()["id"]
    assert client.post(f"{CAMPAIGNS}{campaign_id}/schedule/", {}).json()["sandbox"]
    return campaign_id


def test_a_test_key_runs_the_campaign_in_sandbox(sandbox_campaign_id, smtp_server):
    from campaigns.pipeline import send_batch

    # when
    while send_batch(sandbox_campaign_id):
        pass
    # then
    assert smtp_server.messages == []
    sandboxed = Message.objects.filter(campaign_id=sandbox_campaign_id, status="sandboxed")
    assert sandboxed.count() == 3


def test_a_test_key_sends_no_test_email(account, sandbox_campaign_id, smtp_server):
    client = bearer(make_api_key(account, mode="test", name="another test key")[1])
    sent = client.post(f"{CAMPAIGNS}{sandbox_campaign_id}/send-test/", {"recipients": ["a@b.fr"]})
    assert sent.json() == {"sent": 0}
    assert smtp_server.messages == []


@pytest.fixture
def stranger():
    """An API client of another account."""
    return bearer(make_api_key(AccountFactory())[1])


@pytest.mark.parametrize("path", ["", "recipients/"])
def test_campaigns_of_another_account_cannot_be_read(stranger, account, path):
    campaign = EmailCampaignFactory(account=account)
    assert stranger.get(f"{CAMPAIGNS}{campaign.pk}/{path}").status_code == 404


@pytest.mark.parametrize("action", ["schedule", "pause", "cancel"])
def test_campaigns_of_another_account_cannot_be_driven(stranger, account, action):
    campaign = EmailCampaignFactory(account=account)
    assert stranger.post(f"{CAMPAIGNS}{campaign.pk}/{action}/").status_code == 404


def test_a_campaign_cannot_target_another_accounts_list(stranger, audience):
    # Another account's object is a 404, in a body as in a URL (DESIGN §3).
    response = stranger.post(CAMPAIGNS, {"name": "x", "subject": "s", "lists": [audience.pk]})
    assert response.status_code == 404
    assert response.json()["message"] == f"lists: no object with id {audience.pk} in this account."


def test_a_dkim_key_publishes_its_dns_record_and_never_its_private_part(api_client):
    # when
    created = api_client.post("/api/v1/dkim-keys/", {"domain": "shop.fr"})
    # then
    assert created.status_code == 201
    body = created.json()
    assert body["dns_name"] == "sendethic._domainkey.shop.fr"
    assert body["dns_value"].startswith("v=DKIM1; k=rsa; p=")
    assert "private" not in str(body).lower()


def test_a_second_dkim_key_for_a_domain_is_a_conflict(api_client):
    # given
    api_client.post("/api/v1/dkim-keys/", {"domain": "shop.fr"})
    # when
    again = api_client.post("/api/v1/dkim-keys/", {"domain": "shop.fr"})
    # then
    assert again.status_code == 409
    assert again.json() == {
        "code": "dkim_key_exists",
        "message": "A DKIM key already exists for shop.fr.",
        "fields": {},
    }


def test_an_mjml_template_is_compiled_and_keeps_its_merge_tags(api_client):
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


def test_an_invalid_mjml_template_is_a_400_on_its_source(api_client):
    broken = api_client.post(
        "/api/v1/templates/", {"name": "Cassé", "kind": "mjml", "source": "<mjml><mj-body>"}
    )
    assert broken.status_code == 400 and "source" in broken.json()["fields"]


def test_an_html_template_is_kept_as_given(api_client):
    raw = api_client.post("/api/v1/templates/", {"name": "HTML", "source": "<p>Salut</p>"})
    assert raw.json()["html"] == "<p>Salut</p>"


def test_templates_are_listed_by_name(api_client):
    for name in ["Mon modèle", "HTML"]:
        api_client.post("/api/v1/templates/", {"name": name, "source": "<p>Salut</p>"})
    listed = api_client.get("/api/v1/templates/").json()["results"]
    assert [t["name"] for t in listed] == ["HTML", "Mon modèle"]


def test_the_campaign_list_costs_the_same_queries_whatever_its_length(
    api_client, account, audience, django_assert_max_num_queries
):
    contacts = list(Contact.objects.filter(account=account))
    for number in range(6):
        campaign = EmailCampaignFactory(account=account, name=f"C{number}", subject="Hi")
        for contact, status in zip(
            contacts[: number % 3 + 1], ("sent", "bounced", "queued")[: number % 3 + 1], strict=True
        ):
            MessageFactory(campaign=campaign, contact=contact, status=status)

    def listed():
        response = api_client.get(CAMPAIGNS)
        assert response.status_code == 200
        return {item["name"]: item["stats"] for item in response.json()["results"]}

    with django_assert_max_num_queries(20) as few:
        stats = listed()
    assert stats["C2"]["sent"] == stats["C2"]["bounced"] == stats["C2"]["queued"] == 1
    assert stats["C0"] == {**dict.fromkeys(Message.Status.values, 0), "sent": 1}
    # Six more campaigns cost no more queries.
    for number in range(6, 12):
        EmailCampaignFactory(account=account, name=f"C{number}", subject="Hi")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed()) == 12


def test_a_patched_audience_is_what_the_answer_shows(api_client, account, audience):
    # given
    other = ContactListFactory(account=account, name="Other")
    created = api_client.post(
        CAMPAIGNS, {"name": "N", "subject": "S", "lists": [audience.pk]}
    ).json()
    # when
    patched = api_client.patch(f"{CAMPAIGNS}{created['id']}/", {"lists": [other.pk]}, format="json")
    # then
    assert patched.status_code == 200, patched.json()
    assert patched.json()["lists"] == [other.pk]
    assert api_client.get(f"{CAMPAIGNS}{created['id']}/").json()["lists"] == [other.pk]
