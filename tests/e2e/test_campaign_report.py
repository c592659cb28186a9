"""A marketer reads a campaign's report and a contact's timeline, in headless Chromium (French)."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Message
from stats.models import CampaignActivity, CampaignClient, CampaignStats
from tests.factories import (
    CampaignLinkFactory,
    ContactFactory,
    EmailCampaignFactory,
    EmailEventFactory,
    MessageFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SENT_AT = datetime(2025, 1, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def campaign(account):
    campaign = EmailCampaignFactory(
        account=account, name="Soldes d'hiver", subject="-30 % ce week-end",
        status="finished", started_at=SENT_AT, finished_at=SENT_AT + timedelta(minutes=30),
    )  # fmt: skip
    Message.objects.bulk_create(
        Message(campaign=campaign, email=f"r{index}@example.com", status="sent", sent_at=SENT_AT)
        for index in range(8)
    )
    MessageFactory(campaign=campaign, contact=None, email="bounce@example.com", status="bounced")
    CampaignStats.objects.create(
        campaign=campaign, opens_unique=4, opens_total=6, machine_opens=3, clicks_unique=2,
        clicks_total=2, machine_clicks=1, unsubscribes=1,
    )  # fmt: skip
    CampaignLinkFactory(
        campaign=campaign, index=0, url="https://boutique.fr/soldes", clicks_total=2,
        clicks_unique=2, machine_clicks=1,
    )  # fmt: skip
    for hours, opens, clicks in [(0, 3, 1), (1, 2, 1), (3, 1, 0)]:
        CampaignActivity.objects.create(
            campaign=campaign, hour=SENT_AT + timedelta(hours=hours), opens=opens, clicks=clicks
        )
    CampaignClient.objects.create(campaign=campaign, device="mobile", client="Gmail", opens=4)
    CampaignClient.objects.create(campaign=campaign, device="desktop", client="Outlook", opens=2)
    return campaign


def test_campaign_report_page(logged_in_page, campaign):
    page = logged_in_page

    page.get_by_role("link", name="E-mailing").click()
    page.get_by_test_id("campaign-report-link").click()
    page.get_by_role("heading", name="Soldes d'hiver").wait_for()

    def figure(card):
        return page.get_by_test_id(card).locator(".stat-figure").inner_text()

    assert figure("card-sent") == "9"
    assert figure("card-delivered") == "8"
    assert figure("card-opens") == "50,0\u00a0%"  # 4 of 8 delivered
    assert (
        "3 ouvertures et 1 clic par des machines"
        in page.get_by_test_id("machine-events").inner_text()
    )
    # the chart is drawn, and its figures are also in a table
    page.locator("#activity-chart[data-ready='true']").wait_for()
    page.get_by_text("Les chiffres sous forme de tableau").click()
    assert page.get_by_test_id("activity-table").locator("tbody tr").count() == 4  # gap filled
    links = page.get_by_test_id("links-table")
    assert "https://boutique.fr/soldes" in links.inner_text()
    assert "Téléphone mobile" in page.get_by_test_id("devices-table").inner_text()
    with page.expect_download() as download:
        page.get_by_test_id("report-export").click()
    assert download.value.suggested_filename == f"campaign-{campaign.pk}-report.csv"


def test_contact_timeline_on_the_contact_page(logged_in_page, account, campaign):
    zoe = ContactFactory(
        account=account, email="zoe@example.com", first_name="Zoé", email_status="subscribed"
    )
    message = MessageFactory(
        campaign=campaign, contact=zoe, status="sent", sent_at=SENT_AT,
        first_opened_at=SENT_AT + timedelta(minutes=3),
    )  # fmt: skip
    EmailEventFactory(
        message=message, kind="open", occurred_at=SENT_AT + timedelta(minutes=3),
        device="mobile", client="Gmail",
    )  # fmt: skip
    page = logged_in_page

    page.goto(f"/contacts/{zoe.pk}/")

    timeline = page.get_by_test_id("contact-timeline")
    timeline.wait_for()  # loaded into the page by htmx
    rows = timeline.locator("tbody tr")
    assert rows.count() == 2
    assert "Ouvert" in rows.nth(0).inner_text()
    assert "Gmail" in rows.nth(0).inner_text()
    assert "Reçu" in rows.nth(1).inner_text()
    timeline.get_by_role("link", name="Soldes d'hiver").first.click()
    page.wait_for_url(f"**/stats/campaigns/{campaign.pk}/")
