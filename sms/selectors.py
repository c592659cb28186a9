"""Reads of the SMS side: a campaign's report and its activity over time."""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Coalesce, Substr, TruncHour

from contacts.models import Channel, Suppression
from contacts.segments.functions import Sha256Hex
from sms.account_settings import sms_settings_of
from sms.estimate import _region, price_per_segment
from sms.models import SmsCampaign, SmsClick, SmsMessage, SmsReply

DELIVERED = (SmsMessage.Status.SENT, SmsMessage.Status.SANDBOXED)


def campaign_report(campaign: SmsCampaign) -> dict:
    messages = SmsMessage.objects.filter(campaign=campaign)
    by_status = dict(
        messages.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    failures = (
        messages.filter(status__in=[SmsMessage.Status.FAILED, SmsMessage.Status.BOUNCED])
        .order_by()
        .values("error")
        .annotate(n=Count("pk"))
        .order_by("-n")[:20]
    )
    stop_replies = 0
    if campaign.started_at:
        stop_replies = Suppression.objects.filter(
            account_id=campaign.account_id,
            channel=Channel.SMS,
            reason=Suppression.Reason.UNSUBSCRIBED,
            created_at__gte=campaign.started_at,
            address_hash__in=messages.annotate(h=Sha256Hex("mobile")).values("h"),
        ).count()
    clicks = SmsClick.objects.filter(campaign=campaign)
    people = clicks.filter(machine=False)
    currency = sms_settings_of(campaign.account).currency
    billed = messages.filter(status=SmsMessage.Status.SENT, segments__isnull=False)
    cost = Decimal(0)
    segments_billed = 0
    # Grouped by the numbers' first digits, one sample each for the country (as the estimate).
    groups = (
        billed.order_by()
        .annotate(prefix=Substr("mobile", 1, 5))
        .values("prefix")
        .annotate(s=Sum("segments"), sample=Min("mobile"))
    )
    for group in groups:
        segments_billed += group["s"]
        cost += price_per_segment(currency, _region(group["sample"])) * group["s"]
    return {
        "recipients": sum(by_status.values()),
        "by_status": {value: by_status.get(value, 0) for value in SmsMessage.Status.values},
        "sent": sum(by_status.get(value, 0) for value in DELIVERED),
        "delivered": messages.filter(delivered_at__isnull=False).count(),
        "failed": by_status.get("failed", 0) + by_status.get("bounced", 0),
        "failed_by_reason": [{"reason": row["error"], "count": row["n"]} for row in failures],
        "stop_replies": stop_replies,
        "clicks": people.count(),
        "clickers": people.order_by().values("message_id").distinct().count(),
        "machine_clicks": clicks.filter(machine=True).count(),
        "segments_billed": segments_billed,
        "currency": currency,
        "cost": cost,
    }


# Hours over up to three days of activity, days beyond (as the email report's chart).
HOURLY_SPAN = timedelta(days=3)


@dataclass(frozen=True)
class ActivityPoint:
    start: datetime
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    stops: int = 0
    clicks: int = 0


@dataclass(frozen=True)
class Activity:
    bucket: str  # "hour" or "day"
    timezone: str
    points: list[ActivityPoint]


def _hourly(queryset, column: str) -> dict[datetime, int]:
    """Rows of `queryset` per UTC hour of `column` (one GROUP BY in the database)."""
    rows = (
        queryset.exclude(**{f"{column}__isnull": True})
        .order_by()
        .annotate(hour=TruncHour(column, tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("pk"))
        .values_list("hour", "n")
    )
    return dict(rows)


def campaign_activity(campaign: SmsCampaign) -> Activity:
    """Sent, delivered, failed, STOP replies and short-link clicks (people's) over time, per hour (per day
    past three days) in the account's time zone, empty buckets filled so the axis is regular.

    A failure has no time of its own (a receipt's failure keeps none): it is counted when its
    message was sent, or tried (the claim) when the provider refused it at once."""
    tz_name = campaign.account.timezone
    tz = zoneinfo.ZoneInfo(tz_name)
    messages = SmsMessage.objects.filter(campaign=campaign)
    failed = messages.filter(
        Q(status__in=[SmsMessage.Status.FAILED, SmsMessage.Status.BOUNCED])
        | Q(delivery=SmsMessage.Delivery.FAILED)
    ).annotate(failed_at=Coalesce("sent_at", "claimed_at"))
    series = {
        "sent": _hourly(messages.filter(status__in=DELIVERED), "sent_at"),
        "delivered": _hourly(messages, "delivered_at"),
        "failed": _hourly(failed, "failed_at"),
        "stops": _hourly(SmsReply.objects.filter(campaign=campaign, is_stop=True), "received_at"),
        "clicks": _hourly(SmsClick.objects.filter(campaign=campaign, machine=False), "clicked_at"),
    }
    hours = sorted({hour for counts in series.values() for hour in counts})
    if not hours:
        return Activity(bucket="hour", timezone=tz_name, points=[])
    if hours[-1] - hours[0] <= HOURLY_SPAN:
        starts, key = [], hours[0]
        while key <= hours[-1]:
            starts.append(key)
            key += timedelta(hours=1)
        return Activity(
            bucket="hour",
            timezone=tz_name,
            points=[
                ActivityPoint(
                    start.astimezone(tz),
                    **{name: counts.get(start, 0) for name, counts in series.items()},
                )
                for start in starts
            ],
        )
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, counts in series.items():
        for hour, n in counts.items():
            by_day[hour.astimezone(tz).date()][name] += n
    day, points = min(by_day), []
    while day <= max(by_day):
        points.append(
            ActivityPoint(datetime.combine(day, time(0), tzinfo=tz), **by_day.get(day, {}))
        )
        day += timedelta(days=1)
    return Activity(bucket="day", timezone=tz_name, points=points)
