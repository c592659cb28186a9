"""Tracked links, the open pixel, and folding hits into events and counters."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from campaigns import links, pipeline
from campaigns.models import CampaignLink, Message
from campaigns.services import campaign_create, campaign_schedule
from campaigns.tokens import click_token, open_token
from contacts.models import Contact
from stats.models import (
    CampaignActivity,
    CampaignClient,
    CampaignStats,
    EmailEvent,
    TrackingHit,
)
from stats.services.ingest import ingest_pending
from tests.factories import ContactListFactory, ListMembershipFactory, SenderAddressFactory

pytestmark = pytest.mark.django_db

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
OUTLOOK = (
    "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; Microsoft Outlook 16.0.5400; "
    "ms-office; MSOffice 16)"
)
HTML = """<html><head><style>h1 { color: #123456; }</style></head><body>
<h1>Bonjour {{ first_name }}</h1>
<a href="https://shop.example.com/soldes?x=1&amp;y=2">Soldes</a>
<a href='https://shop.example.com/soldes?x=1&amp;y=2'>Encore les soldes</a>
<a href="https://blog.example.com/?utm_source=blog">Blog</a>
<a href="mailto:service@boutique.fr">Écrire</a>
<a href="tel:+33102030405">Appeler</a>
<a href="#top">Haut</a>
<a href="https://{{ city }}.example.com/">Perso</a>
<a href="{{ unsubscribe_url }}">Se désinscrire</a>
</body></html>"""
UTM = {"utm_source": "sendethic", "utm_medium": "email", "utm_campaign": "soldes"}


def test_track_numbers_web_links_appends_utm_and_places_the_pixel():
    tracked = links.track(HTML, utm=UTM, clicks=True, opens=True)
    assert tracked.urls == (
        "https://shop.example.com/soldes?x=1&y=2&utm_source=sendethic&utm_medium=email"
        "&utm_campaign=soldes",
        # a parameter already in the link wins over the campaign's
        "https://blog.example.com/?utm_source=blog&utm_medium=email&utm_campaign=soldes",
    )
    assert tracked.html.count("SENDETHICLINK0X") == 2  # the same target is one link
    for untouched in ("mailto:service@boutique.fr", "tel:+33102030405", 'href="#top"',
                      "https://{{ city }}.example.com/", "{{ unsubscribe_url }}"):  # fmt: skip
        assert untouched in tracked.html
    assert tracked.html.index(links.PIXEL_PLACEHOLDER) < tracked.html.index("</body>")


def test_without_click_tracking_links_keep_their_target_with_utm():
    tracked = links.track(HTML, utm=UTM, clicks=False, opens=False)
    assert tracked.urls == ()
    assert "SENDETHICLINK" not in tracked.html and links.PIXEL_PLACEHOLDER not in tracked.html
    assert "soldes?x=1&amp;y=2&amp;utm_source=sendethic" in tracked.html


@pytest.fixture
def sent_campaign(account, smtp_server):
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    newsletter = ContactListFactory(account=account, name="Newsletter")
    for email, name in (("zoe@example.com", "Zoé"), ("paul@example.com", "Paul")):
        ListMembershipFactory(
            contact_list=newsletter,
            contact__email=email,
            contact__email_status="subscribed",
            contact__first_name=name,
        )
    campaign = campaign_create(
        account=account,
        data={"name": "Soldes", "subject": "Soldes", "sender": sender, "html": HTML,
              "lists": [newsletter], "utm_parameters": UTM},
    )  # fmt: skip
    campaign_schedule(campaign=campaign, at=None)
    while pipeline.send_batch(campaign.pk):
        pass
    # As if sent a minute ago: events right after sending are a scanner's.
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(minutes=1))
    received = {to[0]: message for to, message in smtp_server.messages}
    return campaign, received


def _paths(message):
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    clicks = re.findall(r'href="https?://[^/"]+(/t/c/[^"]+)"', html)
    opens = re.findall(r'src="https?://[^/"]+(/t/o/[^"]+\.gif)"', html)
    return clicks, opens, html, text


def test_sent_messages_carry_signed_links_and_a_pixel(sent_campaign):
    campaign, received = sent_campaign
    clicks, opens, html, text = _paths(received["zoe@example.com"])
    assert len(clicks) == 3 and len(set(clicks)) == 2 and len(opens) == 1
    assert "/t/c/" in text  # the text part's links are tracked too
    assert "mailto:service@boutique.fr" in html and "/email/u/" in html
    assert list(CampaignLink.objects.filter(campaign=campaign).values_list("index", flat=True)) == [
        0,
        1,
    ]
    other_clicks, *_rest = _paths(received["paul@example.com"])
    assert set(other_clicks).isdisjoint(clicks)  # each message its own tokens


def test_click_redirects_to_the_stored_target_and_open_answers_a_gif(sent_campaign):
    campaign, received = sent_campaign
    clicks, opens, *_ = _paths(received["zoe@example.com"])
    browser = Client(HTTP_USER_AGENT=IPHONE)
    response = browser.get(clicks[0])
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.netloc == "shop.example.com"
    assert parse_qs(target.query)["utm_campaign"] == ["soldes"]
    assert "no-store" in response["Cache-Control"]
    pixel = browser.get(opens[0])
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    assert pixel.content.startswith(b"GIF89a")
    assert TrackingHit.objects.count() == 2


def test_tampered_or_unknown_tokens_are_404_and_record_nothing(sent_campaign, client):
    campaign, received = sent_campaign
    clicks, opens, *_ = _paths(received["zoe@example.com"])
    message = Message.objects.get(campaign=campaign, email="zoe@example.com")
    forged = [
        clicks[0][:-3] + ("aaa" if not clicks[0].endswith("aaa") else "bbb"),
        opens[0].replace(".gif", "x.gif"),
        f"/t/c/{campaign.pk}.{message.pk}.0:forged",
        # correctly signed, but a link index the campaign does not have
        f"/t/c/{click_token(campaign.pk, message.pk, 7)}",
        # a click signature reused as an open token (salts differ)
        f"/t/o/{click_token(campaign.pk, message.pk, 0)}.gif",
        "/t/c/not-even-a-token",
    ]
    for path in forged:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Location" not in response
    assert TrackingHit.objects.count() == 0
    assert client.post(clicks[0]).status_code == 405


@pytest.fixture
def ingested(sent_campaign):
    """People and machines opened and clicked the campaign, then the hits were ingested:
    (campaign, what the ingestion counted)."""
    campaign, received = sent_campaign
    zoe_clicks, zoe_opens, *_ = _paths(received["zoe@example.com"])
    paul_clicks, paul_opens, *_ = _paths(received["paul@example.com"])
    iphone, outlook = Client(HTTP_USER_AGENT=IPHONE), Client(HTTP_USER_AGENT=OUTLOOK)
    iphone.get(zoe_opens[0])
    iphone.get(zoe_opens[0])  # opened twice: 2 opens, 1 unique
    outlook.get(zoe_clicks[0])
    outlook.get(zoe_clicks[0])
    outlook.get(zoe_clicks[2])  # the second link
    Client(HTTP_USER_AGENT="Mozilla/5.0").get(paul_opens[0])  # Apple Mail Privacy Protection
    Client(HTTP_USER_AGENT="Barracuda Sentinel (EE)").get(paul_clicks[0])  # link scanner
    Client(HTTP_USER_AGENT=IPHONE).head(paul_clicks[2])  # prefetch
    Client(HTTP_USER_AGENT=OUTLOOK).get(paul_clicks[2])  # Paul clicks, images blocked
    return campaign, ingest_pending()


def test_ingest_takes_every_pending_hit(ingested):
    # given / when
    _campaign, count = ingested
    # then
    assert count == 9
    assert TrackingHit.objects.count() == 0


def test_ingest_counts_people_and_machines_apart(ingested):
    # given / when
    campaign, _count = ingested
    # then
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.opens_total, stats.opens_unique, stats.machine_opens) == (2, 2, 1)
    assert (stats.clicks_total, stats.clicks_unique, stats.machine_clicks) == (4, 2, 2)


def test_ingest_dates_each_recipients_first_open_and_click(ingested):
    # given / when
    campaign, _count = ingested
    # then
    zoe = Message.objects.get(campaign=campaign, email="zoe@example.com")
    paul = Message.objects.get(campaign=campaign, email="paul@example.com")
    assert zoe.first_opened_at and zoe.first_clicked_at
    assert paul.first_opened_at and paul.first_clicked_at  # a click proves the open


def test_ingest_counts_each_links_clicks(ingested):
    # given / when
    campaign, _count = ingested
    # then
    first, second = CampaignLink.objects.filter(campaign=campaign).order_by("index")
    assert (first.clicks_total, first.clicks_unique, first.machine_clicks) == (2, 1, 1)
    assert (second.clicks_total, second.clicks_unique, second.machine_clicks) == (2, 2, 1)


def test_ingest_records_why_an_event_is_a_machines(ingested):
    # given / when: ingested
    # then
    reasons = set(
        EmailEvent.objects.exclude(machine_reason="").values_list("machine_reason", flat=True)
    )
    assert reasons == {"privacy_proxy", "scanner", "head_request"}


def test_ingest_records_the_device_and_client_of_an_open(ingested):
    # given / when: ingested
    # then
    open_event = EmailEvent.objects.filter(kind="open", machine_reason="").first()
    assert (open_event.device, open_event.client, open_event.os) == ("mobile", "Apple Mail", "iOS")
    assert open_event.contact.email == "zoe@example.com"
    assert open_event.user_agent == IPHONE


def test_ingest_sums_opens_by_client_and_by_hour(ingested):
    # given / when
    campaign, _count = ingested
    # then
    assert CampaignClient.objects.get(campaign=campaign, device="mobile").opens == 2
    activity = CampaignActivity.objects.get(campaign=campaign)
    assert (activity.opens, activity.clicks) == (2, 4)


def test_a_second_ingest_counts_nothing_twice(ingested):
    # given
    campaign, _count = ingested
    # when
    count = ingest_pending()
    # then: nothing left, nothing counted twice
    assert count == 0
    assert CampaignStats.objects.get(campaign=campaign).opens_total == 2


def test_events_right_after_sending_are_flagged(sent_campaign, settings):
    campaign, received = sent_campaign
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now())
    settings.MACHINE_EVENT_SECONDS = 30
    clicks, *_ = _paths(received["zoe@example.com"])
    Client(HTTP_USER_AGENT=OUTLOOK).get(clicks[0])
    ingest_pending()
    event = EmailEvent.objects.get(kind="click")
    assert event.machine_reason == "too_fast"
    assert CampaignStats.objects.get(campaign=campaign).clicks_unique == 0


def test_hits_of_a_deleted_campaign_are_dropped(sent_campaign):
    campaign, received = sent_campaign
    message = Message.objects.filter(campaign=campaign).first()
    Client().get(f"/t/o/{open_token(campaign.pk, message.pk)}.gif")
    campaign.delete()
    assert ingest_pending() == 1
    assert TrackingHit.objects.count() == 0 and EmailEvent.objects.count() == 0


def test_utm_parameters_are_validated_by_the_api_and_kept_by_the_editor(
    account, api_client, logged_in_client
):
    url = "/api/v1/campaigns/email/"
    base = {"name": "N", "subject": "S", "html": "<p>x</p>"}
    for bad in ([1, 2], {"utm_evil": "x"}, {"utm_source": "x" * 201}, {"utm_source": ["a"]}):
        response = api_client.post(url, {**base, "utm_parameters": bad}, format="json")
        assert response.status_code == 400, bad
        assert "utm_parameters" in response.json()["fields"]
    created = api_client.post(
        url, {**base, "utm_parameters": {"utm_source": "news", "utm_term": "t"}}, format="json"
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    page = logged_in_client.get(f"/email/{pk}/")
    assert b'value="news"' in page.content
    response = logged_in_client.post(
        f"/email/{pk}/",
        {"name": "N", "subject": "S", "html": "<p>x</p>", "utm_source": "",
         "utm_medium": "email", "utm_campaign": "noel"},
    )  # fmt: skip
    assert response.status_code == 302
    from campaigns.models import EmailCampaign

    assert EmailCampaign.objects.get(pk=pk).utm_parameters == {
        "utm_medium": "email",
        "utm_campaign": "noel",
        "utm_term": "t",
    }


def test_erasing_a_contact_anonymises_their_messages_and_events(sent_campaign):
    from contacts.services.consent import contact_erase

    campaign, received = sent_campaign
    clicks, opens, *_ = _paths(received["zoe@example.com"])
    Client(HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9").get(opens[0])
    ingest_pending()
    Client(HTTP_USER_AGENT=IPHONE).get(clicks[0])  # not ingested yet
    zoe = Contact.objects.get(email="zoe@example.com")
    message_pk = Message.objects.get(contact=zoe).pk
    contact_erase(contact=zoe, actor="test")

    message = Message.objects.get(pk=message_pk)
    assert message.email == f"erased.{message_pk}@invalid" and message.contact is None
    event = EmailEvent.objects.get(message=message)
    assert event.ip_address is None and event.user_agent == ""
    assert not TrackingHit.objects.filter(message_id=message_pk).exists()
    # the campaign's figures stay
    assert CampaignStats.objects.get(campaign=campaign).opens_unique == 1
    paul = Message.objects.get(campaign=campaign, email="paul@example.com")
    assert paul.contact is not None


def _wsgi(path, method="GET", user_agent=OUTLOOK):
    """Call the production WSGI application (the tracking layer in front of Django)."""
    from wsgiref.util import setup_testing_defaults

    from sendethic.wsgi import application

    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "HTTP_USER_AGENT": user_agent,
               "REMOTE_ADDR": "198.51.100.7", "HTTP_HOST": "testserver"}  # fmt: skip
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    answer["body"] = b"".join(application(environ, start_response))
    return answer


def test_the_wsgi_layer_answers_tracking_paths_like_the_views(sent_campaign):
    campaign, received = sent_campaign
    clicks, opens, *_ = _paths(received["zoe@example.com"])
    click = _wsgi(clicks[0])
    assert click["status"] == "302 Found"
    assert click["headers"]["Location"].startswith("https://shop.example.com/soldes?x=1&y=2")
    assert "no-store" in click["headers"]["Cache-Control"]
    pixel = _wsgi(opens[0])
    assert pixel["status"] == "200 OK" and pixel["body"].startswith(b"GIF89a")
    assert _wsgi(opens[0], method="HEAD")["body"] == b""
    for forged in (clicks[0][:-2] + "zz", opens[0].replace(".gif", "x.gif"), "/t/c/1.2.3:x"):
        assert _wsgi(forged)["status"] == "404 Not Found"
    hits = list(TrackingHit.objects.order_by("id").values_list("kind", "ip_address", "method"))
    assert hits == [("c", "198.51.100.7", "GET"), ("o", "198.51.100.7", "GET"),
                    ("o", "198.51.100.7", "HEAD")]  # fmt: skip
    # everything else is Django's
    assert _wsgi("/robots.txt")["status"].startswith("200")
    assert _wsgi(clicks[0], method="POST")["status"].startswith("405")
    assert _wsgi("/t/unknown")["status"].startswith("404")
