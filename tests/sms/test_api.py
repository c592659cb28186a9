"""The SMS API: senders, campaigns, the opt-out mention, the estimate, the lifecycle, the report
and the outbox; another account's objects are 404."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from campaigns.engine import sending
from contacts.models import Channel, Suppression
from contacts.services.consent import suppression_add
from sms.channel import SMS
from sms.models import OutboxSms, SmsCampaign, SmsMessage
from sms.services import SmsError, sms_settings_update
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)
from tests.sms.factories import SmsCampaignFactory, SmsSenderFactory

pytestmark = pytest.mark.django_db
CAMPAIGNS = "/api/v1/campaigns/sms/"
WEDNESDAY_11H_PARIS = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)
SUNDAY_10H_PARIS = datetime(2025, 6, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def audience(account):
    newsletter = ContactListFactory(account=account, name="Clients")
    for mobile, name in [
        ("+33612345678", "Jo"),
        ("+33612345679", "Maximilien"),
        ("+32470123456", "An"),
    ]:
        ListMembershipFactory(
            contact_list=newsletter,
            contact=ContactFactory(
                account=account, mobile=mobile, first_name=name, sms_status="subscribed"
            ),
        )
    return newsletter


@pytest.fixture
def sender(account):
    return SmsSenderFactory(account=account, value="Boutique")


def create(api_client, **data):
    return api_client.post(CAMPAIGNS, data, format="json")


def test_senders_are_validated_unique_and_per_account(api_client, account):
    assert api_client.post("/api/v1/sms/senders/", {"value": "Boutique"}).status_code == 201
    duplicate = api_client.post("/api/v1/sms/senders/", {"value": "Boutique"})
    assert duplicate.status_code == 409
    bad = api_client.post("/api/v1/sms/senders/", {"value": "ab"})
    assert bad.status_code == 400 and "value" in bad.json()["fields"]
    other = SmsSenderFactory(account=AccountFactory(), value="Autre")
    assert api_client.get(f"/api/v1/sms/senders/{other.pk}/").status_code == 404
    assert api_client.delete(f"/api/v1/sms/senders/{other.pk}/").status_code == 404


def test_a_marketing_campaign_without_the_stop_mention_is_a_400(api_client, sender, audience):
    refused = create(
        api_client, name="Soldes", sender=sender.pk, text="Soldes -50 %", lists=[audience.pk]
    )
    assert refused.status_code == 400
    assert "STOP au 36180" in refused.json()["fields"]["text"][0]

    accepted = create(
        api_client,
        name="Soldes",
        sender=sender.pk,
        text="Soldes -50 % STOP au 36180",
        lists=[audience.pk],
    )
    assert accepted.status_code == 201, accepted.json()
    transactional = create(api_client, name="Code", kind="transactional", text="Code: 1234")
    assert transactional.status_code == 201


def test_the_mention_is_the_accounts_and_may_depend_on_the_provider(account, settings):
    sms_settings_update(account=account, opt_out_mention="STOP au 38100")
    campaign = SmsCampaignFactory(account=account, text="Promo STOP au 38100")
    assert SMS.prepare(campaign).text == "Promo STOP au 38100"
    with pytest.raises(SmsError):
        sms_settings_update(account=account, opt_out_mention="Répondez NON")

    sms_settings_update(account=account, opt_out_by_provider={"twilio": "STOP au 12345"})
    settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
    assert SMS.prepare(campaign).text == "Promo STOP au 38100\nSTOP au 12345"


def test_the_window_can_only_be_narrowed(account):
    from datetime import time

    sms_settings_update(account=account, window_start=time(9), window_end=time(19))
    with pytest.raises(SmsError):
        sms_settings_update(account=account, window_start=time(7), window_end=time(19))
    with pytest.raises(SmsError):
        sms_settings_update(account=account, window_start=time(9), window_end=time(21))


def test_the_estimate_counts_forcing_characters_longest_values_and_cost(api_client, audience):
    answer = api_client.post(
        "/api/v1/sms/estimate/",
        {"text": "Bonjour {{ first_name }}, c’est la fête !", "lists": [audience.pk]},
        format="json",
    ).json()
    # the longest first name of the audience, and the mention, are counted
    assert answer["text"].startswith("Bonjour Maximilien, c’est la fête !")
    assert answer["text"].endswith("STOP au 36180")
    assert answer["encoding"] == "UCS-2"
    assert answer["ucs2_characters"] == ["’", "ê"]
    assert answer["replacements"] == {"’": "'", "ê": "e"}
    assert answer["text_after_replacements"] == "Bonjour {{ first_name }}, c'est la fete !"
    assert answer["recipients"] == 3
    assert answer["total_segments"] == 3 * answer["segments"]
    countries = {row["country"]: row for row in answer["by_country"]}
    assert countries["FR"]["recipients"] == 2 and countries["BE"]["recipients"] == 1
    expected = (Decimal("0.0450") * 2 + Decimal("0.0750")) * answer["segments"]
    assert Decimal(answer["cost"]) == expected
    assert answer["currency"] == "EUR"


def test_the_estimate_shows_the_segments_a_replacement_saves(api_client):
    text = "Profitez de nos offres sur les chaussures et les vêtements ce week-end " * 2
    answer = api_client.post(
        "/api/v1/sms/estimate/", {"text": text, "kind": "transactional"}, format="json"
    ).json()
    assert answer["encoding"] == "UCS-2" and answer["segments"] == 3
    assert answer["segments_saved"] == 2  # 142 GSM-7 characters: one SMS


def test_schedule_send_report_and_messages(
    api_client, sender, audience, sms_outbox, clock, account
):
    clock(WEDNESDAY_11H_PARIS)
    campaign_id = create(
        api_client, name="Soldes", sender=sender.pk, text="Soldes STOP au 36180",
        lists=[audience.pk],
    ).json()["id"]  # fmt: skip
    started = api_client.post(f"{CAMPAIGNS}{campaign_id}/schedule/", {}, format="json")
    assert started.json()["status"] == "running"
    while sending.send_batch(SMS, campaign_id):
        pass
    # a recipient answers STOP once the SMS reached them
    suppression_add(
        account=account,
        channel=Channel.SMS,
        address="+33612345679",
        reason=Suppression.Reason.UNSUBSCRIBED,
    )

    report = api_client.get(f"{CAMPAIGNS}{campaign_id}/report/").json()
    assert report["sent"] == 3 and report["segments_billed"] == 3
    assert report["stop_replies"] == 1
    assert Decimal(report["cost"]) == Decimal("0.0450") * 2 + Decimal("0.0750")
    listed = api_client.get(f"{CAMPAIGNS}{campaign_id}/messages/?status=sent").json()
    assert len(listed["results"]) == 3
    assert api_client.get(f"{CAMPAIGNS}{campaign_id}/").json()["status"] == "finished"


def test_outside_the_window_the_campaign_shows_its_pause(
    api_client, sender, audience, sms_outbox, clock
):
    clock(SUNDAY_10H_PARIS)
    campaign_id = create(
        api_client, name="Soldes", sender=sender.pk, text="Soldes STOP au 36180",
        lists=[audience.pk],
    ).json()["id"]  # fmt: skip
    api_client.post(f"{CAMPAIGNS}{campaign_id}/schedule/", {}, format="json")
    sending.send_batch(SMS, campaign_id)
    shown = api_client.get(f"{CAMPAIGNS}{campaign_id}/").json()
    assert shown["status"] == "paused"
    assert shown["resumes_at"] == "2025-06-16T06:00:00Z"  # Monday 08:00 in Paris
    assert sms_outbox == []
    # the user's own pause, then resume, clears the automatic resumption
    assert api_client.post(f"{CAMPAIGNS}{campaign_id}/pause/").json()["resumes_at"] is None
    assert api_client.post(f"{CAMPAIGNS}{campaign_id}/resume/").json()["status"] == "running"
    assert api_client.post(f"{CAMPAIGNS}{campaign_id}/cancel/").json()["status"] == "cancelled"
    assert api_client.post(f"{CAMPAIGNS}{campaign_id}/resume/").status_code == 409
    assert SmsMessage.objects.filter(campaign_id=campaign_id, status="cancelled").count() == 3


def test_test_send_renders_as_a_contact_and_goes_whatever_the_hour(
    api_client, sender, audience, sms_outbox, clock
):
    clock(SUNDAY_10H_PARIS)
    campaign_id = create(
        api_client, name="Soldes", sender=sender.pk,
        text="Bonjour {{ first_name }} STOP au 36180", lists=[audience.pk],
    ).json()["id"]  # fmt: skip
    sent = api_client.post(
        f"{CAMPAIGNS}{campaign_id}/send-test/", {"mobile": "+33699999999"}, format="json"
    )
    assert sent.status_code == 200, sent.json()
    assert [(s.mobile, s.sender) for s in sms_outbox] == [("+33699999999", "Boutique")]
    assert sms_outbox[0].text.startswith("Bonjour ")
    bad = api_client.post(f"{CAMPAIGNS}{campaign_id}/send-test/", {"mobile": "0612"}, format="json")
    assert bad.status_code == 400


def test_another_accounts_campaign_and_outbox_are_404(api_client, settings, clock):
    other = SmsCampaignFactory(account=AccountFactory(), text="x STOP au 36180")
    for path in ["", "estimate/", "report/", "messages/"]:
        assert api_client.get(f"{CAMPAIGNS}{other.pk}/{path}").status_code == 404
    for path in ["schedule/", "pause/", "cancel/"]:
        assert (
            api_client.post(f"{CAMPAIGNS}{other.pk}/{path}", {}, format="json").status_code == 404
        )
    assert (
        api_client.patch(f"{CAMPAIGNS}{other.pk}/", {"name": "x"}, format="json").status_code == 404
    )
    kept = OutboxSms.objects.create(
        account=other.account, mobile="+33600000001", text="x", encoding="GSM-7", segments=1
    )
    assert api_client.get(f"/api/v1/sms/outbox/{kept.pk}/").status_code == 404
    assert api_client.get("/api/v1/sms/outbox/").json()["results"] == []
    assert SmsCampaign.objects.filter(pk=other.pk).exists()


def test_scheduling_a_draft_that_is_not_ready_is_a_409_naming_what_to_fill_in(api_client):
    # As for email campaigns: the request is well formed, the draft is not complete yet.
    draft = api_client.post(CAMPAIGNS, {"name": "Brouillon"}, format="json").json()["id"]

    refused = api_client.post(f"{CAMPAIGNS}{draft}/schedule/", {"at": None}, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "not_ready"
    assert set(refused.json()["fields"]) == {"text", "sender", "lists"}
    assert SmsCampaign.objects.get(pk=draft).status == "draft"
