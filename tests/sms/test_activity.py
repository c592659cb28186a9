"""The SMS report over time: sent, delivered, failed, STOP replies and clicks per hour (per day
past three days) in the account's time zone, gaps filled."""

from datetime import UTC, datetime, timedelta

import pytest

from sms.models import SmsClick, SmsMessage, SmsReply
from sms.selectors import campaign_activity
from tests.sms.factories import SmsCampaignFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 6, 11, 8, 10, tzinfo=UTC)  # 10:10 in Paris


def message(campaign, n, **columns):
    return SmsMessage.objects.create(campaign=campaign, mobile=f"+3361234567{n}", **columns)


def test_figures_per_hour_in_the_accounts_zone_with_the_gaps_filled(account):
    campaign = SmsCampaignFactory(account=account)
    a = message(campaign, 1, status="sent", sent_at=T0, delivered_at=T0 + timedelta(minutes=5))
    message(campaign, 2, status="sent", sent_at=T0 + timedelta(minutes=20))
    # refused at once: counted when tried; failed by its receipt: counted when sent
    message(campaign, 3, status="failed", claimed_at=T0 + timedelta(hours=2))
    message(campaign, 4, status="sent", sent_at=T0, delivery="failed")
    message(campaign, 5, status="queued")
    SmsReply.objects.create(
        account=account, campaign=campaign, provider="twilio", provider_id="SM1",
        mobile="+33612345672", to="+33600000000", text="STOP", is_stop=True,
        received_at=T0 + timedelta(hours=2, minutes=1),
    )  # fmt: skip
    SmsClick.objects.create(
        message=a, campaign=campaign, link_index=0, clicked_at=T0 + timedelta(hours=1)
    )
    SmsClick.objects.create(  # a link preview: not a person's click
        message=a, campaign=campaign, link_index=0, clicked_at=T0, machine=True
    )

    activity = campaign_activity(campaign)

    assert activity.bucket == "hour" and activity.timezone == account.timezone
    rows = [
        (p.start.hour, p.sent, p.delivered, p.failed, p.stops, p.clicks) for p in activity.points
    ]
    assert rows == [(10, 3, 1, 1, 0, 0), (11, 0, 0, 0, 0, 1), (12, 0, 0, 1, 1, 0)]


def test_past_three_days_the_figures_are_per_day(account):
    campaign = SmsCampaignFactory(account=account)
    message(campaign, 1, status="sent", sent_at=T0)
    message(campaign, 2, status="sandboxed", sent_at=T0 + timedelta(days=4))
    activity = campaign_activity(campaign)
    assert activity.bucket == "day"
    assert [(p.start.day, p.sent) for p in activity.points] == [
        (11, 1), (12, 0), (13, 0), (14, 0), (15, 1)
    ]  # fmt: skip


def test_nothing_sent_is_no_point(account):
    assert campaign_activity(SmsCampaignFactory(account=account)).points == []
