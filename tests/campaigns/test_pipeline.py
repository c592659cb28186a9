import re

import pytest
from django.utils import timezone

from campaigns import pipeline
from campaigns.models import EmailCampaign, Message
from campaigns.services import CampaignError, campaign_create, campaign_schedule
from contacts.models import Contact, Suppression, address_hash
from contacts.services.consent import suppression_add
from contacts.services.fields import field_create
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SenderAddressFactory,
)

pytestmark = pytest.mark.django_db

HTML = """<html><head><style>.title { color: #c0392b; font-size: 24px; }</style></head>
<body><p class="title">Bonjour {{ first_name | default:"cher client" }} !</p>
<p>Vous avez {{ fields.points }} points.</p>
<a href="https://shop.example.com/?ref={{ email }}">Voir la boutique</a>
<p><a href="{{ unsubscribe_url }}">Se désinscrire</a> · {{ account.postal_address }}</p>
</body></html>"""


@pytest.fixture
def campaign(account):
    account.postal_address = "1 rue de la Paix, 75002 Paris"
    account.save()
    field_create(account=account, key="points", label="Points", type="number")
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    newsletter = ContactListFactory(account=account, name="Newsletter")

    def contact(email, status="subscribed", **extra):
        created = ContactFactory(account=account, email=email, email_status=status, **extra)
        ListMembershipFactory(contact_list=newsletter, contact=created)
        return created

    contact("zoe@example.com", first_name="Zoé", fields={"points": 120})
    contact("paul@example.com", first_name="", fields={})
    contact("soft@example.com", status="soft_optin")
    contact("never@example.com", status="none")  # no consent: not sent
    contact("gone@example.com", status="unsubscribed")
    contact("suppressed@example.com")
    suppression_add(account=account, channel="email", address="suppressed@example.com",
                    reason="hard_bounce")  # fmt: skip
    # not in the list
    ContactFactory(account=account, email="other@example.com", email_status="subscribed")
    campaign = campaign_create(
        account=account,
        data={
            "name": "Soldes d'hiver",
            "subject": '{{ first_name | default:"Bonjour" }}, les soldes commencent',
            "preheader": "Jusqu'à -50 %",
            "sender": sender,
            "html": HTML,
            "lists": [newsletter],
        },
    )
    return campaign


def deliver_all(campaign):
    while pipeline.send_batch(campaign.pk):
        pass


def test_audience_is_frozen_with_consent_and_suppression_applied(campaign):
    campaign_schedule(campaign=campaign, at=None)
    emails = set(Message.objects.filter(campaign=campaign).values_list("email", flat=True))
    assert emails == {"zoe@example.com", "paul@example.com", "soft@example.com"}
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "running"


def test_messages_reach_the_smtp_server_personalised_inlined_and_unsubscribable(
    campaign, smtp_server, client
):
    campaign_schedule(campaign=campaign, at=None)
    deliver_all(campaign)
    received = {to[0]: message for to, message in smtp_server.messages}
    assert set(received) == {"zoe@example.com", "paul@example.com", "soft@example.com"}
    zoe = received["zoe@example.com"]
    assert zoe["Subject"] == "Zoé, les soldes commencent"
    assert zoe["From"] == "La Boutique <news@boutique.fr>"
    assert zoe["Message-ID"].endswith("@boutique.fr>")
    assert zoe["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = zoe["List-Unsubscribe"].strip().strip("<>")
    html = zoe.get_body(("html",)).get_content()
    text = zoe.get_body(("plain",)).get_content()
    assert 'style="color:#c0392b; font-size:24px"' in html.replace(": ", ":") or (
        "color:#c0392b" in html.replace(" ", "")
    )
    assert "Bonjour Zoé !" in html and "120 points" in html
    # the merge tag in the link survived inlining; the link is tracked, its redirect filled in
    shop_link = re.search(r'href="https?://[^/"]+(/t/c/[^"]+)">Voir la boutique', html).group(1)
    assert client.get(shop_link)["Location"] == "https://shop.example.com/?ref=zoe%40example.com"
    assert unsubscribe_url in html
    assert "1 rue de la Paix" in html
    assert re.search(r"Voir la boutique \(https?://[^/]+/t/c/[^)]+\)", text)
    assert "Bonjour cher client !" in received["paul@example.com"].get_body(("html",)).get_content()
    # the message table agrees with the server
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 3
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "finished"

    # RFC 8058 one-click: a POST with no cookie and no CSRF token unsubscribes at once
    from django.test import Client

    path = "/" + unsubscribe_url.split("/", 3)[3]
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    contact = Contact.objects.get(email="zoe@example.com")
    assert contact.email_status == "unsubscribed"
    assert Suppression.objects.filter(address_hash=address_hash("zoe@example.com")).exists()
    assert client.get(path).status_code == 200
    assert client.get(path[:-4] + "xxx/").status_code == 404


def test_permanent_and_temporary_refusals(campaign, smtp_server, account):
    newsletter = campaign.lists.get()
    for email in ("bounce@example.com", "later@example.com"):
        ListMembershipFactory(
            contact_list=newsletter, contact__email=email, contact__email_status="subscribed"
        )
    campaign_schedule(campaign=campaign, at=None)
    deliver_all(campaign)
    bounced = Message.objects.get(campaign=campaign, email="bounce@example.com")
    assert bounced.status == "bounced" and bounced.error.startswith("550")
    assert Suppression.objects.filter(
        address_hash=address_hash("bounce@example.com"), reason="hard_bounce"
    ).exists()
    later = Message.objects.get(campaign=campaign, email="later@example.com")
    assert later.status == "queued" and later.next_attempt_at > timezone.now()
    assert later.error.startswith("451")
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "running"  # one still to retry


def test_pause_resume_and_cancel_take_effect_between_batches(campaign, smtp_server):
    campaign_schedule(campaign=campaign, at=None)
    pipeline.campaign_pause(campaign=campaign)
    assert pipeline.send_batch(campaign.pk) == 0
    assert smtp_server.messages == []
    pipeline.campaign_resume(campaign=campaign)
    assert pipeline.claim_batch(campaign.pk, size=1)  # one in flight
    pipeline.campaign_cancel(campaign=campaign)
    assert pipeline.send_batch(campaign.pk) == 0
    statuses = sorted(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled", "sending"]


def test_expired_leases_are_recovered(campaign):
    campaign_schedule(campaign=campaign, at=None)
    claimed = pipeline.claim_batch(campaign.pk)
    assert len(claimed) == 3
    assert pipeline.claim_batch(campaign.pk) == []  # nothing left to claim
    assert pipeline.recover_expired_leases() == 0  # leases still valid
    later = timezone.now() + pipeline.lease() + timezone.timedelta(seconds=1)
    assert pipeline.recover_expired_leases(now=later) == 3
    assert len(pipeline.claim_batch(campaign.pk)) == 3


def test_sandbox_campaigns_record_and_deliver_nothing(campaign, smtp_server):
    campaign_schedule(campaign=campaign, at=None, sandbox=True)
    deliver_all(campaign)
    assert smtp_server.messages == []
    assert Message.objects.filter(campaign=campaign, status="sandboxed").count() == 3


def test_scheduled_campaigns_start_on_the_beat_tick(campaign):
    from campaigns.tasks import start_due_campaigns_task

    at = timezone.now() + timezone.timedelta(hours=1)
    campaign_schedule(campaign=campaign, at=at)
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "scheduled"
    start_due_campaigns_task()
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "scheduled"
    EmailCampaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
    start_due_campaigns_task()
    assert EmailCampaign.objects.get(pk=campaign.pk).status == "running"


def test_unknown_merge_tags_are_refused_at_save(account):
    with pytest.raises(CampaignError) as error:
        campaign_create(
            account=account,
            data={"name": "x", "subject": "{{ password }}", "html": "{{ fields.nope }} {% x %}"},
        )
    assert set(error.value.errors) == {"subject", "html"}


def test_a_campaign_needs_a_verified_sender_and_an_unsubscribe_link(campaign):
    campaign.sender.verified_at = None
    campaign.sender.save()
    campaign.html = "<p>no link</p>"
    campaign.save()
    with pytest.raises(CampaignError) as error:
        campaign_schedule(campaign=campaign, at=None)
    assert set(error.value.errors) == {"sender", "html"}


def test_messages_are_dkim_signed_with_the_domain_key(campaign, smtp_server, account):
    import dkim

    from campaigns.dkim import dkim_key_create
    from campaigns.models import DkimKey

    key = dkim_key_create(account=account, domain="Boutique.fr")
    assert key.dns_name == "sendethic._domainkey.boutique.fr"
    stored = DkimKey.objects.get(pk=key.pk)
    assert b"PRIVATE KEY" not in bytes(stored.private_key_encrypted)  # encrypted at rest
    campaign_schedule(campaign=campaign, at=None)
    deliver_all(campaign)
    raw = smtp_server.raw[0]
    assert raw.startswith(b"DKIM-Signature:")

    def dns(name, timeout=5):
        assert name == b"sendethic._domainkey.boutique.fr."
        return key.dns_value.encode()

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"Bonjour", b"Bonsoir", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_pacing_holds_an_account_to_its_rate():
    from campaigns.pacing import wait_for_send_slot

    now = [1000.2]
    sleeps = []

    def sleep(seconds):
        sleeps.append(round(seconds, 3))
        now[0] += seconds

    for _ in range(5):
        wait_for_send_slot(42, 2, sleep=sleep, clock=lambda: now[0])
    # two messages per one-second window: 5 messages span three windows
    assert sleeps == [0.8, 1.0]
    assert int(now[0]) == 1002


def test_an_esp_backend_from_django_anymail_can_deliver_the_campaign(campaign, settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    campaign_schedule(campaign=campaign, at=None)
    deliver_all(campaign)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "paul@example.com",
        "soft@example.com",
        "zoe@example.com",
    ]
    assert all(m.extra_headers["List-Unsubscribe-Post"] for m in mail.outbox)
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 3


def test_a_test_send_over_smtp_is_dkim_signed(campaign, smtp_server, account):
    import dkim

    from campaigns.dkim import dkim_key_create
    from campaigns.services import campaign_send_test

    # given: a signing key for the sender's domain
    key = dkim_key_create(account=account, domain="boutique.fr")
    # when: a test send goes through the Django email backend
    assert campaign_send_test(campaign=campaign, recipients=["me@example.com"]) == 1
    # then
    raw = smtp_server.raw[0]
    assert raw.startswith(b"DKIM-Signature:")

    def dns(name, timeout=5):
        assert name == b"sendethic._domainkey.boutique.fr."
        return key.dns_value.encode()

    assert dkim.verify(raw, dnsfunc=dns)


def test_the_local_outbox_keeps_each_campaign_message_for_its_account(campaign, settings):
    """Embedded default: the engine's messages land in the outbox of the campaign's account
    only (another account's outbox stays empty), rendered."""
    from campaigns.models import OutboxMessage
    from tests.factories import AccountFactory

    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    bystander = AccountFactory()
    campaign_schedule(campaign=campaign, at=None)
    deliver_all(campaign)
    kept = OutboxMessage.objects.filter(account=campaign.account)
    assert sorted(m.recipients for m in kept) == [
        "paul@example.com",
        "soft@example.com",
        "zoe@example.com",
    ]
    assert all(m.channel == "email" and m.html and m.subject for m in kept)
    assert not OutboxMessage.objects.filter(account=bystander).exists()
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 3
