"""Short links: with the option on, each link of an SMS campaign's text becomes a signed
/t/s/ redirect of its own per message, counted in the length at its real length, counted as a
click on that message, and never a redirect to anything but the stored link."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.engine import sending
from campaigns.engine.lifecycle import campaign_start
from campaigns.signals import message_clicked
from sms import short_links
from sms.channel import SMS
from sms.encoding import count
from sms.estimate import estimate
from sms.models import SmsClick, SmsLink, SmsMessage
from sms.selectors import campaign_report
from sms.services import campaign_send_test
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory

pytestmark = pytest.mark.django_db
PHONE = {"HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"}
WEDNESDAY_10H = datetime(2025, 6, 11, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
TEXT = "Bonjour {{ first_name }}, soldes sur https://boutique.example/soldes?c=ete. Et https://boutique.example/retours !"


@pytest.fixture
def campaign(account, settings):
    settings.PUBLIC_BASE_URL = "https://app.sendethic.example"
    newsletter = ContactListFactory(account=account)
    for mobile, name in [("+33612345678", "Alice"), ("+33698765432", "Bruno")]:
        contact = ContactFactory(
            account=account, mobile=mobile, first_name=name, sms_status="subscribed"
        )
        ListMembershipFactory(contact_list=newsletter, contact=contact)
    return SmsCampaignFactory(
        account=account, lists=[newsletter], text=TEXT + " STOP au 36180", short_links=True
    )


def sent(campaign, clock):
    clock(WEDNESDAY_10H)
    campaign_start(campaign=campaign)
    sending.send_batch(SMS, campaign.pk)
    return {m.mobile: m for m in SmsMessage.objects.filter(campaign=campaign)}


def test_tokens_name_their_message_and_link_and_refuse_tampering():
    token = short_links.token(123456, 3)
    assert short_links.read_token(token) == (123456, 3)
    assert len(token) <= 4 + 1 + short_links.SIGNATURE_LENGTH
    for forged in [
        short_links.token(123457, 3)[:-8] + token[-8:],  # another message, this signature
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "",
        "abc",
        token + "/",
        "é" * 12,
    ]:
        with pytest.raises(short_links.InvalidToken):
            short_links.read_token(forged)


def test_links_are_found_without_the_sentences_punctuation():
    text = "Voir https://a.example/x?y=1. Puis (https://b.example/)! Pas {{ url }} ni http://"
    assert short_links.links_of(text) == ["https://a.example/x?y=1", "https://b.example/"]


def test_each_message_gets_its_own_short_links_billed_at_their_length(campaign, sms_outbox, clock):
    messages = sent(campaign, clock)
    assert list(SmsLink.objects.filter(campaign=campaign).values_list("index", "url")) == [
        (0, "https://boutique.example/soldes?c=ete"),
        (1, "https://boutique.example/retours"),
    ]
    texts = {sms.mobile: sms.text for sms in sms_outbox}
    alice = messages["+33612345678"]
    assert texts[alice.mobile] == (
        f"Bonjour Alice, soldes sur {short_links.short_url(alice.pk, 0)}. "
        f"Et {short_links.short_url(alice.pk, 1)} ! STOP au 36180"
    )
    assert short_links.short_url(alice.pk, 0).startswith("https://app.sendethic.example/t/s/")
    assert alice.segments == count(texts[alice.mobile]).segments
    assert "boutique.example" not in texts["+33698765432"]


def test_a_click_redirects_to_the_stored_link_and_counts_for_the_message(
    campaign, sms_outbox, clock, client, django_capture_on_commit_callbacks
):
    messages = sent(campaign, clock)
    bruno = messages["+33698765432"]
    heard = []
    message_clicked.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.get(f"/t/s/{short_links.token(bruno.pk, 1)}", **PHONE)
    finally:
        message_clicked.disconnect(dispatch_uid="t")
    assert answer.status_code == 302
    assert answer["Location"] == "https://boutique.example/retours"
    assert answer["Cache-Control"].startswith("no-store")
    click = SmsClick.objects.get()
    assert (click.message_id, click.campaign_id, click.link_index) == (bruno.pk, campaign.pk, 1)
    assert heard[0]["contact_id"] == bruno.contact_id and heard[0]["channel"] == "sms"
    client.get(f"/t/s/{short_links.token(bruno.pk, 0)}", **PHONE)
    report = campaign_report(campaign)
    assert (report["clicks"], report["clickers"], report["machine_clicks"]) == (2, 1, 0)


def test_link_previews_and_scanners_are_kept_apart(campaign, sms_outbox, clock, client):
    messages = sent(campaign, clock)
    token = short_links.token(messages["+33612345678"].pk, 0)
    imessage = "Mozilla/5.0 (Macintosh) facebookexternalhit/1.1 Facebot Twitterbot/1.0"
    for agent in [imessage, "WhatsApp/2.23.20.0 A", ""]:
        assert client.get(f"/t/s/{token}", HTTP_USER_AGENT=agent).status_code == 302
    assert client.head(f"/t/s/{token}", **PHONE).status_code == 302
    report = campaign_report(campaign)
    assert (report["clicks"], report["clickers"], report["machine_clicks"]) == (0, 0, 4)
    assert SmsClick.objects.filter(machine=True).count() == 4


def test_no_redirect_without_a_stored_link(campaign, sms_outbox, clock, client):
    messages = sent(campaign, clock)
    alice = messages["+33612345678"]
    assert client.get(f"/t/s/{short_links.token(alice.pk, 7)}").status_code == 404  # no link 7
    assert client.get(f"/t/s/{short_links.token(999999, 0)}").status_code == 404  # no message
    assert client.get(f"/t/s/{short_links.token(alice.pk, 0)[:-1]}x").status_code == 404
    assert client.get("/t/s/https:%2F%2Fevil.example").status_code == 404
    assert not SmsClick.objects.exists()


def test_without_the_option_links_stay_as_written(campaign, sms_outbox, clock):
    campaign.short_links = False
    campaign.save()
    sent(campaign, clock)
    assert all("https://boutique.example/soldes?c=ete" in sms.text for sms in sms_outbox)
    assert not SmsLink.objects.exists()


def test_the_estimate_counts_the_short_links_at_their_real_length(account, campaign):
    long_link = "https://boutique.example/" + "x" * 120
    text = f"Soldes {long_link} STOP au 36180"
    plain = estimate(account=account, text=text, marketing=True)
    shortened = estimate(account=account, text=text, marketing=True, short_links=True)
    assert plain.counted.segments == 2 and shortened.counted.segments == 1
    # as long as the link the next message would get
    expected = f"Soldes {short_links.short_url(1, 0)} STOP au 36180"
    assert shortened.counted.characters == count(expected).characters


def test_a_test_send_shows_the_links_as_written(campaign, sms_outbox):
    sms = campaign_send_test(campaign=campaign, mobile="+33600000000")
    assert "https://boutique.example/soldes?c=ete." in sms.text
    assert "SMSSHORTLINK" not in sms.text


def test_the_option_and_the_clicks_are_in_the_api(api_client, campaign, sms_outbox, clock):
    shown = api_client.get(f"/api/v1/campaigns/sms/{campaign.pk}/").json()
    assert shown["short_links"] is True
    answer = api_client.post(
        "/api/v1/sms/estimate/",
        {"text": "x " + "https://a.example/" + "y" * 150, "kind": "transactional",
         "short_links": True},
        format="json",
    ).json()  # fmt: skip
    assert answer["segments"] == 1
    messages = sent(campaign, clock)
    api_client.get(f"/t/s/{short_links.token(messages['+33612345678'].pk, 0)}", **PHONE)
    report = api_client.get(f"/api/v1/campaigns/sms/{campaign.pk}/report/").json()
    assert (report["clicks"], report["clickers"]) == (1, 1)
