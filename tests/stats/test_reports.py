"""Campaign reports, a contact's activity and the dashboard: selectors, API and pages."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from campaigns.models import CampaignLink, EmailCampaign, Message
from contacts.models import Contact, Suppression, address_hash
from stats import selectors
from stats.models import (
    CampaignActivity,
    CampaignClient,
    CampaignStats,
    EmailEvent,
)
from stats.selectors import campaigns as campaign_selectors
from stats.services.events import record_bounce
from tests.factories import AccountFactory, EmailCampaignFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 8, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def make_campaign(account, *, name="Soldes d'hiver", status="finished", **extra):
    extra.setdefault("started_at", NOW)
    if status == "finished":
        extra.setdefault("finished_at", NOW + timedelta(minutes=40))
    return EmailCampaignFactory(
        account=account, name=name, subject="-30 % ce week-end", status=status, **extra
    )


def add_messages(campaign, status, count, *, sent=True, contact=None):
    start = Message.objects.filter(campaign=campaign).count()
    return Message.objects.bulk_create(
        Message(
            campaign=campaign,
            contact=contact,
            email=f"r{start + index}@c{campaign.pk}.example",
            status=status,
            sent_at=NOW if sent else None,
        )
        for index in range(count)
    )


def set_counters(campaign, **values):
    return CampaignStats.objects.update_or_create(campaign=campaign, defaults=values)[0]


@pytest.fixture
def campaign(account):
    """12 recipients: 6 delivered, 2 bounced after acceptance, 1 refused during the SMTP
    dialogue, 1 failed, 1 queued, 1 cancelled — and counters for what recipients did."""
    campaign = make_campaign(account)
    add_messages(campaign, Message.Status.SENT, 6)
    add_messages(campaign, Message.Status.BOUNCED, 2)
    add_messages(campaign, Message.Status.BOUNCED, 1, sent=False)
    add_messages(campaign, Message.Status.FAILED, 1, sent=False)
    add_messages(campaign, Message.Status.QUEUED, 1, sent=False)
    add_messages(campaign, Message.Status.CANCELLED, 1, sent=False)
    set_counters(
        campaign,
        opens_unique=3,
        opens_total=5,
        machine_opens=4,
        clicks_unique=2,
        clicks_total=3,
        machine_clicks=1,
        unsubscribes=1,
        complaints=1,
        hard_bounces=2,
        soft_bounces=1,
    )
    return campaign


# --- Selectors -----------------------------------------------------------------------------------


def test_report_figures_follow_the_documented_definitions(campaign):
    report = selectors.campaign_report(campaign)

    assert report.recipients == 12
    assert report.pending == 1
    assert report.sent == 9  # answered for good: 6 accepted and kept, 3 bounced
    assert report.delivered == 6  # sent − hard bounces
    assert (report.hard_bounces, report.rejected, report.bounced_after_acceptance) == (3, 1, 2)
    assert report.soft_bounces == 1
    assert (report.failed, report.cancelled, report.sandboxed) == (1, 1, 0)
    assert (report.opens_unique, report.opens_total, report.machine_opens) == (3, 5, 4)
    assert (report.clicks_unique, report.clicks_total, report.machine_clicks) == (2, 3, 1)
    assert report.rates == selectors.Rates(
        open=0.5,  # 3 / 6 delivered
        click=0.3333,  # 2 / 6
        click_to_open=0.6667,  # 2 / 3
        bounce=0.4444,  # (3 hard + 1 soft) / 9 sent
        unsubscribe=0.1667,
        complaint=0.1667,
    )


def test_a_campaign_with_nothing_yet_reports_zeros(account):
    draft = make_campaign(account, status="draft", started_at=None)

    report = selectors.campaign_report(draft)

    assert (report.recipients, report.sent, report.delivered, report.opens_unique) == (0, 0, 0, 0)
    assert report.rates == selectors.Rates(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert not CampaignStats.objects.filter(campaign=draft).exists()  # a read writes nothing


def test_rates_never_divide_by_zero_nor_pass_one():
    assert selectors.rate(3, 0) == 0.0
    assert selectors.rate(0, 10) == 0.0
    assert selectors.rate(12, 10) == 1.0
    assert selectors.rate(1, 3) == 0.3333


def test_message_counts_are_cached_and_follow_late_bounces(campaign, django_assert_num_queries):
    selectors.campaign_report(campaign)
    with django_assert_num_queries(1):  # the counters only: message counts come from the cache
        cached = selectors.campaign_report(campaign)
    assert cached.delivered == 6

    # a hard bounce reported after the campaign ended moves the cache key with its counter
    message = Message.objects.filter(campaign=campaign, status=Message.Status.SENT).first()
    record_bounce(message=message, permanent=True, source="dsn", diagnostic="5.1.1 unknown")

    report = selectors.campaign_report(campaign)
    assert (report.delivered, report.bounced_after_acceptance, report.hard_bounces) == (5, 3, 4)


def test_a_status_change_invalidates_the_counts_of_a_running_campaign(account):
    running = make_campaign(account, status="running")
    add_messages(running, Message.Status.QUEUED, 3, sent=False)
    assert selectors.campaign_report(running).pending == 3

    Message.objects.filter(campaign=running).update(status=Message.Status.SENT, sent_at=NOW)
    assert selectors.campaign_report(running).pending == 3  # cached for a few seconds
    running.status = EmailCampaign.Status.FINISHED
    running.save(update_fields=["status"])

    report = selectors.campaign_report(running)
    assert (report.pending, report.delivered) == (0, 3)


def test_counts_stay_cached_longer_once_the_campaign_is_settled(campaign, account, monkeypatch):
    timeouts = []

    class RecordingCache:
        def get_many(self, keys):
            return {}

        def set(self, key, value, timeout):
            timeouts.append(timeout)

    monkeypatch.setattr(campaign_selectors, "cache", RecordingCache())
    selectors.campaign_report(campaign)
    selectors.campaign_report(make_campaign(account, status="running", name="En cours"))

    assert timeouts == [
        campaign_selectors.SETTLED_COUNTS_SECONDS,
        campaign_selectors.LIVE_COUNTS_SECONDS,
    ]


def test_links_most_clicked_first(campaign):
    CampaignLink.objects.create(campaign=campaign, index=0, url="https://shop.fr/", clicks_total=2)
    CampaignLink.objects.create(
        campaign=campaign, index=1, url="https://shop.fr/soldes", clicks_total=9, clicks_unique=7
    )

    assert [link.index for link in selectors.campaign_links(campaign)] == [1, 0]


def test_activity_is_hourly_in_the_account_time_zone_with_gaps_filled(campaign):
    CampaignActivity.objects.create(campaign=campaign, hour=NOW, opens=5, clicks=1)
    CampaignActivity.objects.create(campaign=campaign, hour=NOW + timedelta(hours=2), opens=2)

    series = selectors.campaign_activity(campaign)

    assert series.bucket == "hour"
    assert series.timezone == "Europe/Paris"
    assert [(p.start.hour, p.opens, p.clicks) for p in series.points] == [
        (10, 5, 1),  # 09:00 UTC is 10:00 in Paris in winter
        (11, 0, 0),
        (12, 2, 0),
    ]
    assert (series.opens, series.clicks) == (7, 1)


def test_activity_over_a_long_span_is_daily_by_local_date(campaign):
    # 23:30 UTC on 1 January is already 2 January in Paris
    CampaignActivity.objects.create(
        campaign=campaign, hour=datetime(2025, 1, 1, 23, tzinfo=UTC), opens=4
    )
    CampaignActivity.objects.create(
        campaign=campaign, hour=datetime(2025, 1, 2, 10, tzinfo=UTC), opens=1, clicks=1
    )
    CampaignActivity.objects.create(
        campaign=campaign, hour=datetime(2025, 1, 6, 10, tzinfo=UTC), clicks=3
    )

    series = selectors.campaign_activity(campaign)

    assert series.bucket == "day"
    assert [(p.start.day, p.opens, p.clicks) for p in series.points] == [
        (2, 5, 1),
        (3, 0, 0),
        (4, 0, 0),
        (5, 0, 0),
        (6, 0, 3),
    ]
    assert selectors.campaign_activity(campaign, bucket="hour").bucket == "hour"
    assert selectors.campaign_activity(campaign, bucket="day").points[0].opens == 5


def test_activity_of_a_campaign_nobody_opened_is_empty(campaign):
    assert selectors.campaign_activity(campaign).points == []


def test_clients_by_device_and_by_client_family(campaign):
    for device, client, opens in [
        ("mobile", "Gmail", 6),
        ("desktop", "Gmail", 2),
        ("desktop", "Outlook", 2),
        ("other", "Apple Mail", 10),
    ]:
        CampaignClient.objects.create(campaign=campaign, device=device, client=client, opens=opens)

    breakdown = selectors.campaign_clients(campaign)

    assert breakdown.opens == 20
    assert [(s.name, s.opens, s.share) for s in breakdown.devices] == [
        ("other", 10, 0.5),
        ("mobile", 6, 0.3),
        ("desktop", 4, 0.2),
    ]
    assert [(s.name, s.opens) for s in breakdown.clients] == [
        ("Apple Mail", 10),
        ("Gmail", 8),
        ("Outlook", 2),
    ]


# --- A contact's activity ------------------------------------------------------------------------


@pytest.fixture
def zoe(account, campaign):
    """Received two campaigns: opened and clicked the first (a scanner clicked too), the second
    bounced; then unsubscribed."""
    zoe = Contact.objects.create(
        account=account, key="zoe@example.com", email="zoe@example.com", first_name="Zoé",
        email_status="unsubscribed",
    )  # fmt: skip
    first = Message.objects.create(
        campaign=campaign, contact=zoe, email=zoe.email, status="sent", sent_at=NOW,
        first_opened_at=NOW + timedelta(minutes=5), first_clicked_at=NOW + timedelta(minutes=6),
    )  # fmt: skip
    link = CampaignLink.objects.create(campaign=campaign, index=0, url="https://shop.fr/soldes")
    later = make_campaign(account, name="Nouveautés", started_at=NOW + timedelta(days=1))
    second = Message.objects.create(
        campaign=later, contact=zoe, email=zoe.email, status="bounced",
        sent_at=NOW + timedelta(days=1), error="550 5.1.1 unknown user",
    )  # fmt: skip

    def event(message, kind, minutes, **extra):
        return EmailEvent.objects.create(
            account=account, campaign=message.campaign, message=message, contact=zoe, kind=kind,
            occurred_at=message.sent_at + timedelta(minutes=minutes), **extra,
        )  # fmt: skip

    event(first, "click", 1, link=link, machine_reason="scanner")
    event(first, "open", 5, device="mobile", client="Gmail")
    event(first, "click", 6, link=link, device="mobile", client="Gmail")
    event(second, "unsubscribe", 30, detail="all email")
    Suppression.objects.create(
        account=account,
        channel="email",
        address_hash=address_hash(zoe.email),
        reason="unsubscribed",
    )
    return zoe


def test_contact_activity_is_a_timeline_newest_first(zoe):
    activity = selectors.contact_activity(zoe)

    assert [(item.kind, item.campaign_name) for item in activity.items] == [
        ("unsubscribe", "Nouveautés"),
        ("message", "Nouveautés"),
        ("click", "Soldes d'hiver"),
        ("open", "Soldes d'hiver"),
        ("click", "Soldes d'hiver"),
        ("message", "Soldes d'hiver"),
    ]
    bounced, machine_click = activity.items[1], activity.items[4]
    assert (bounced.message_status, bounced.detail) == ("bounced", "550 5.1.1 unknown user")
    assert (machine_click.machine_reason, machine_click.detail) == (
        "scanner",
        "https://shop.fr/soldes",
    )
    assert (activity.messages_received, activity.messages_opened) == (1, 1)
    assert activity.messages_clicked == 1
    [email] = activity.addresses
    assert (email.address, email.consent, email.suppression) == (
        "zoe@example.com",
        "unsubscribed",
        "unsubscribed",
    )
    assert len(selectors.contact_activity(zoe, limit=2).items) == 2


def test_contact_activity_reads_a_fixed_number_of_queries(zoe, django_assert_num_queries):
    with django_assert_num_queries(4):  # summary, messages, events, suppressions
        selectors.contact_activity(zoe)


def test_contact_activity_of_a_new_contact_is_empty(account):
    contact = Contact.objects.create(
        account=account, key="new@example.com", email="new@example.com"
    )

    activity = selectors.contact_activity(contact)

    assert activity.items == []
    assert activity.addresses[0].suppression == ""


# --- Dashboard -----------------------------------------------------------------------------------


def test_dashboard_sums_the_period_campaigns(account, campaign):
    now = NOW + timedelta(days=2)
    old = make_campaign(account, name="Ancienne", started_at=NOW - timedelta(days=40))
    add_messages(old, Message.Status.SENT, 50)
    sandboxed = make_campaign(account, name="Essai", sandbox=True, started_at=NOW)
    add_messages(sandboxed, Message.Status.SANDBOXED, 5)
    make_campaign(account, status="draft", name="Brouillon", started_at=None)
    second = make_campaign(account, name="Nouveautés", started_at=NOW + timedelta(days=1))
    add_messages(second, Message.Status.SENT, 4)
    set_counters(second, opens_unique=1, clicks_unique=1, unsubscribes=2)
    for index, status in enumerate(["subscribed", "soft_optin", "unsubscribed", "none"]):
        Contact.objects.create(account=account, key=f"{index}@x.fr", email_status=status)
    Suppression.objects.create(account=account, channel="email", address_hash="h", reason="erased")
    Contact.objects.create(account=AccountFactory(), key="other@x.fr", email_status="subscribed")

    dashboard = selectors.account_dashboard(account, now=now)

    assert dashboard.campaigns_sent == 2  # the old one and the sandboxed one aside
    assert (dashboard.messages_sent, dashboard.delivered) == (9 + 4, 6 + 4)
    assert (dashboard.open_rate, dashboard.click_rate) == (0.4, 0.3)  # 4/10 and 3/10
    assert (dashboard.unsubscribes, dashboard.complaints) == (3, 1)
    assert (dashboard.contacts_total, dashboard.contacts_subscribed) == (4, 2)
    assert dashboard.addresses_suppressed == 1
    assert [report.campaign.name for report in dashboard.recent] == [
        "Nouveautés",
        "Essai",  # started at the same time as the next one, created after it
        "Soldes d'hiver",
        "Ancienne",
    ]


def test_dashboard_of_a_new_account_is_zeros(account):
    dashboard = selectors.account_dashboard(account)

    assert (dashboard.campaigns_sent, dashboard.messages_sent, dashboard.open_rate) == (0, 0, 0.0)
    assert dashboard.recent == []


# --- API -----------------------------------------------------------------------------------------


def test_report_endpoint(api_client, campaign):
    response = api_client.get(f"/api/v1/campaigns/email/{campaign.pk}/report/")

    assert response.status_code == 200
    body = response.json()
    assert body["campaign"]["name"] == "Soldes d'hiver"
    assert (body["sent"], body["delivered"], body["hard_bounces"]) == (9, 6, 3)
    assert body["rates"]["open"] == 0.5
    assert body["machine_opens"] == 4


def test_report_detail_endpoints(api_client, campaign):
    CampaignLink.objects.create(campaign=campaign, index=0, url="https://shop.fr/", clicks_total=2)
    CampaignActivity.objects.create(campaign=campaign, hour=NOW, opens=5, clicks=1)
    CampaignClient.objects.create(campaign=campaign, device="mobile", client="Gmail", opens=5)
    base = f"/api/v1/campaigns/email/{campaign.pk}/report"

    links = api_client.get(f"{base}/links/").json()
    activity = api_client.get(f"{base}/activity/").json()
    daily = api_client.get(f"{base}/activity/?bucket=day").json()
    clients = api_client.get(f"{base}/clients/").json()

    assert links == [
        {
            "index": 0,
            "url": "https://shop.fr/",
            "clicks_total": 2,
            "clicks_unique": 0,
            "machine_clicks": 0,
        }
    ]
    assert activity["bucket"] == "hour"
    assert activity["points"] == [{"start": "2025-01-08T10:00:00+01:00", "opens": 5, "clicks": 1}]
    assert daily["points"][0]["start"] == "2025-01-08T00:00:00+01:00"
    assert clients["devices"] == [{"name": "mobile", "opens": 5, "share": 1.0}]
    bad = api_client.get(f"{base}/activity/?bucket=week")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_csv_export_over_the_api(api_client, account):
    campaign = make_campaign(account, name='=HYPERLINK("http://evil")')
    add_messages(campaign, Message.Status.SENT, 4)
    set_counters(campaign, opens_unique=1)
    CampaignLink.objects.create(
        campaign=campaign, index=0, url="https://shop.fr/?q=1", clicks_total=2
    )

    response = api_client.get(
        f"/api/v1/campaigns/email/{campaign.pk}/report/export/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"campaign-{campaign.pk}-report.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Campaign", '\'=HYPERLINK("http://evil")']
    figures = {row[0]: row[1] for row in rows if len(row) == 2}
    assert (figures["Sent"], figures["Delivered"], figures["Open rate (%)"]) == ("4", "4", "25.00")
    assert ["https://shop.fr/?q=1", "2", "0", "0"] in rows


def test_contact_activity_endpoint(api_client, zoe):
    response = api_client.get(f"/api/v1/contacts/{zoe.pk}/activity/?limit=3")

    assert response.status_code == 200
    body = response.json()
    assert body["contact"] == zoe.pk
    assert [item["kind"] for item in body["items"]] == ["unsubscribe", "message", "click"]
    assert body["items"][1]["campaign"]["name"] == "Nouveautés"
    assert body["addresses"][0]["suppression"] == "unsubscribed"
    assert api_client.get(f"/api/v1/contacts/{zoe.pk}/activity/?limit=0").status_code == 400


def test_dashboard_endpoint(api_client, campaign):
    response = api_client.get("/api/v1/stats/dashboard/?days=3650")
    assert response.status_code == 400

    body = api_client.get("/api/v1/stats/dashboard/?days=366").json()
    assert body["days"] == 366
    assert body["recent"][0]["campaign"]["id"] == campaign.pk
    assert body["recent"][0]["rates"]["open"] == 0.5


def test_report_endpoint_reads_a_fixed_number_of_queries(
    api_client, campaign, django_assert_num_queries
):
    url = f"/api/v1/campaigns/email/{campaign.pk}/report/"
    api_client.get(url)  # warms the message counts
    # the API key, the campaign, its counters — whatever the campaign's size
    with django_assert_num_queries(3):
        assert api_client.get(url).status_code == 200


def test_every_endpoint_answers_404_for_another_accounts_objects(api_client):
    other = AccountFactory()
    theirs = make_campaign(other)
    contact = Contact.objects.create(account=other, key="x@y.fr", email="x@y.fr")
    urls = [
        f"/api/v1/campaigns/email/{theirs.pk}/report/",
        f"/api/v1/campaigns/email/{theirs.pk}/report/links/",
        f"/api/v1/campaigns/email/{theirs.pk}/report/activity/",
        f"/api/v1/campaigns/email/{theirs.pk}/report/clients/",
        f"/api/v1/campaigns/email/{theirs.pk}/report/export/",
        f"/api/v1/contacts/{contact.pk}/activity/",
    ]
    for url in urls:
        response = api_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url


def test_the_dashboard_endpoint_shows_only_the_callers_account(api_client, account):
    make_campaign(AccountFactory(), name="Theirs")

    body = api_client.get("/api/v1/stats/dashboard/").json()

    assert body["recent"] == []


def test_endpoints_need_an_api_key(client, campaign):
    for url in [f"/api/v1/campaigns/email/{campaign.pk}/report/", "/api/v1/stats/dashboard/"]:
        assert client.get(url).status_code == 401


# --- Pages ---------------------------------------------------------------------------------------


def test_report_page(logged_in_client, campaign):
    campaign.status = EmailCampaign.Status.PAUSED
    campaign.pause_reason = "Mise en pause automatique : trop de plaintes."
    campaign.save()
    CampaignLink.objects.create(campaign=campaign, index=0, url="https://shop.fr/soldes")
    CampaignActivity.objects.create(campaign=campaign, hour=NOW, opens=5, clicks=1)
    CampaignClient.objects.create(campaign=campaign, device="mobile", client="Gmail", opens=5)

    response = logged_in_client.get(f"/stats/campaigns/{campaign.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mise en pause automatique : trop de plaintes." in html
    assert 'id="activity-chart"' in html and 'id="activity-data"' in html
    assert "https://shop.fr/soldes" in html
    assert "vendor/chartjs/chart.umd.js" in html
    assert response.context["report"].delivered == 6
    assert response.context["chart"]["opens"] == [5]
    assert f"/stats/campaigns/{campaign.pk}/report.csv" in html


def test_report_csv_download_page(logged_in_client, campaign):
    response = logged_in_client.get(f"/stats/campaigns/{campaign.pk}/report.csv")

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert "Soldes d'hiver" in text


def test_dashboard_pages(logged_in_client, campaign):
    page = logged_in_client.get("/stats/")
    summary = logged_in_client.get("/stats/summary/")
    home = logged_in_client.get("/")

    assert page.status_code == summary.status_code == 200
    assert page.context["dashboard"].recent[0].campaign == campaign
    assert f"/stats/campaigns/{campaign.pk}/" in page.content.decode()
    assert 'data-testid="dashboard-summary"' in summary.content.decode()
    assert 'hx-get="/stats/summary/"' in home.content.decode()


def test_contact_activity_fragment_and_page(logged_in_client, zoe):
    contact_page = logged_in_client.get(f"/contacts/{zoe.pk}/")
    fragment = logged_in_client.get(f"/stats/contacts/{zoe.pk}/", HTTP_HX_REQUEST="true")
    page = logged_in_client.get(f"/stats/contacts/{zoe.pk}/")

    assert f'hx-get="/stats/contacts/{zoe.pk}/"' in contact_page.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "https://shop.fr/soldes" in fragment.content.decode()
    assert "<html" in page.content.decode()
    assert "HX-Request" in fragment["Vary"]


def test_campaign_pages_link_to_the_report(logged_in_client, campaign, account):
    draft = make_campaign(account, status="draft", name="Brouillon", started_at=None)

    listing = logged_in_client.get("/email/").content.decode()
    editor = logged_in_client.get(f"/email/{campaign.pk}/").content.decode()

    assert f"/stats/campaigns/{campaign.pk}/" in listing
    assert f"/stats/campaigns/{draft.pk}/" not in listing
    assert f"/stats/campaigns/{campaign.pk}/" in editor


def test_pages_of_another_account_are_404(logged_in_client):
    other = AccountFactory()
    theirs = make_campaign(other)
    contact = Contact.objects.create(account=other, key="x@y.fr", email="x@y.fr")
    for url in [
        f"/stats/campaigns/{theirs.pk}/",
        f"/stats/campaigns/{theirs.pk}/report.csv",
        f"/stats/contacts/{contact.pk}/",
    ]:
        assert logged_in_client.get(url).status_code == 404, url


def test_pages_need_a_login(client, campaign):
    for url in ["/stats/", "/stats/summary/", f"/stats/campaigns/{campaign.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_late_soft_bounces_count_apart_from_delivered(campaign):
    message = Message.objects.filter(campaign=campaign, status=Message.Status.SENT).first()

    record_bounce(message=message, permanent=False, source="dsn", diagnostic="4.2.2 mailbox full")

    report = selectors.campaign_report(campaign)
    assert (report.soft_bounces, report.delivered) == (2, 6)
