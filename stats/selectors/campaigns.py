"""A campaign's report: figures and rates, links, opens and clicks over time, devices and
mail clients — all read from counters kept as events arrive, never from the event log."""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import CampaignLink, EmailCampaign, Message
from stats.models import CampaignActivity, CampaignClient, CampaignStats

# While messages are still going out the counts move every second: a short cache keeps a busy
# report page from re-counting a big campaign on every refresh. Once the campaign is settled only
# late bounces change them, and those change the cache key (see _counts_key).
LIVE_COUNTS_SECONDS = 30
SETTLED_COUNTS_SECONDS = 3600
# Past this span the hourly chart has too many points to read: it switches to days.
AUTO_HOURLY_SPAN = timedelta(hours=72)
MAX_HOURLY_SPAN = timedelta(days=31)

DEVICE_LABELS = {
    "desktop": gettext_lazy("Computer"),
    "mobile": gettext_lazy("Mobile phone"),
    "tablet": gettext_lazy("Tablet"),
    "other": gettext_lazy("Other or hidden"),
}


def rate(part: int, whole: int) -> float:
    """`part / whole` between 0 and 1, 4 decimals; 0 when there is nothing to divide by."""
    if whole <= 0 or part <= 0:
        return 0.0
    return round(min(part / whole, 1.0), 4)


@dataclass(frozen=True)
class Rates:
    open: float  # unique human opens / delivered
    click: float  # unique human clicks / delivered
    click_to_open: float  # unique clicks / unique opens
    bounce: float  # (hard + soft bounces) / sent
    unsubscribe: float  # unsubscribes / delivered
    complaint: float  # complaints / delivered


@dataclass(frozen=True)
class CampaignReport:
    campaign: EmailCampaign
    recipients: int
    pending: int
    sent: int
    delivered: int
    rejected: int
    bounced_after_acceptance: int
    hard_bounces: int
    soft_bounces: int
    failed: int
    cancelled: int
    sandboxed: int
    opens_unique: int
    opens_total: int
    machine_opens: int
    clicks_unique: int
    clicks_total: int
    machine_clicks: int
    unsubscribes: int
    complaints: int
    rates: Rates


def _settled(campaign: EmailCampaign, now: datetime) -> bool:
    """No message of the campaign can change status any more, except through a late bounce."""
    if campaign.status == EmailCampaign.Status.FINISHED:
        return True
    if campaign.status == EmailCampaign.Status.CANCELLED and campaign.finished_at is not None:
        # A batch claimed before the cancellation may still be in flight for one lease.
        return now - campaign.finished_at > timedelta(seconds=settings.SEND_LEASE_SECONDS)
    return False


def _counts_key(campaign: EmailCampaign, counters: CampaignStats) -> str:
    # Late bounces are the only thing that changes a settled campaign's message statuses, and
    # each one bumps hard_bounces or soft_bounces (stats/services/events.py): the key moves with
    # them. Opens and clicks do not touch it, so a campaign being read stays cached.
    return (
        f"stats:message-counts:{campaign.pk}:{campaign.status}:"
        f"{counters.hard_bounces}:{counters.soft_bounces}"
    )


def _count_messages(campaign_id: int) -> dict[str, int]:
    # COUNT(*) rather than COUNT(id): PostgreSQL then answers from the (campaign, status) index
    # alone, without reading the million table rows of a big campaign.
    counts = dict(
        Message.objects.filter(campaign_id=campaign_id)
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"))
        .values_list("status", "n")
    )
    counts["bounced_after_acceptance"] = (
        Message.objects.filter(
            campaign_id=campaign_id, status=Message.Status.BOUNCED, sent_at__isnull=False
        ).count()
        if counts.get(Message.Status.BOUNCED)
        else 0
    )
    return counts


def _build_report(
    campaign: EmailCampaign, counters: CampaignStats, counts: dict[str, int]
) -> CampaignReport:
    status = Message.Status
    bounced = counts.get(status.BOUNCED, 0)
    after_acceptance = counts.get("bounced_after_acceptance", 0)
    delivered = counts.get(status.SENT, 0)
    sent = delivered + bounced
    opens_unique = counters.opens_unique
    clicks_unique = counters.clicks_unique
    return CampaignReport(
        campaign=campaign,
        recipients=sum(n for name, n in counts.items() if name in status.values),
        pending=counts.get(status.QUEUED, 0) + counts.get(status.SENDING, 0),
        sent=sent,
        delivered=delivered,
        rejected=bounced - after_acceptance,
        bounced_after_acceptance=after_acceptance,
        hard_bounces=bounced,
        soft_bounces=counters.soft_bounces,
        failed=counts.get(status.FAILED, 0),
        cancelled=counts.get(status.CANCELLED, 0),
        sandboxed=counts.get(status.SANDBOXED, 0),
        opens_unique=opens_unique,
        opens_total=counters.opens_total,
        machine_opens=counters.machine_opens,
        clicks_unique=clicks_unique,
        clicks_total=counters.clicks_total,
        machine_clicks=counters.machine_clicks,
        unsubscribes=counters.unsubscribes,
        complaints=counters.complaints,
        rates=Rates(
            open=rate(opens_unique, delivered),
            click=rate(clicks_unique, delivered),
            click_to_open=rate(clicks_unique, opens_unique),
            bounce=rate(bounced + counters.soft_bounces, sent),
            unsubscribe=rate(counters.unsubscribes, delivered),
            complaint=rate(counters.complaints, delivered),
        ),
    )


def campaign_reports(campaigns: Iterable[EmailCampaign]) -> dict[int, CampaignReport]:
    """The reports of several campaigns: one query for their counters, one cache round trip,
    and a count of messages only for campaigns whose counts are not cached."""
    campaigns = list(campaigns)
    if not campaigns:
        return {}
    stored = CampaignStats.objects.in_bulk([campaign.pk for campaign in campaigns])
    counters = {
        campaign.pk: stored.get(campaign.pk) or CampaignStats(campaign_id=campaign.pk)
        for campaign in campaigns
    }
    keys = {campaign.pk: _counts_key(campaign, counters[campaign.pk]) for campaign in campaigns}
    cached = cache.get_many(list(keys.values()))
    now = timezone.now()
    reports = {}
    for campaign in campaigns:
        counts = cached.get(keys[campaign.pk])
        if counts is None:
            counts = _count_messages(campaign.pk)
            timeout = SETTLED_COUNTS_SECONDS if _settled(campaign, now) else LIVE_COUNTS_SECONDS
            cache.set(keys[campaign.pk], counts, timeout)
        reports[campaign.pk] = _build_report(campaign, counters[campaign.pk], counts)
    return reports


def campaign_report(campaign: EmailCampaign) -> CampaignReport:
    """Every figure of one email campaign.

    Message figures (from the message table, so that they always add up):

    - recipients: messages of the campaign, whatever their status (the frozen audience);
      pending: still queued or being sent.
    - sent: messages the receiving server answered for good — accepted (status sent) or refused
      (status bounced). A refusal during the SMTP dialogue (5xx) leaves the message `bounced`
      with no `sent_at`; a hard bounce reported later (DSN, ESP webhook, or a soft-bounce streak
      turned permanent) turns an accepted message `bounced`, keeping its `sent_at`. Sandboxed,
      failed (no usable answer) and cancelled messages are not sent; they are counted apart.
      This is also the "sent" of the automatic pause on complaints (stats/services/events.py),
      so the report and the pause message agree.
    - hard_bounces = rejected (at the SMTP dialogue) + bounced_after_acceptance.
    - delivered = sent − hard bounces = messages still `sent`. A soft bounce is temporary (the
      receiving side may still deliver): it is counted in soft_bounces and not taken off.

    Recipient figures (counters): unique and total human opens and clicks — a person's click
    counts as an open — with machine opens and clicks (privacy proxies, link scanners) apart and
    in no rate; unsubscribes and complaints once per message; soft bounces after acceptance.

    Rates, between 0 and 1: open = unique opens / delivered; click = unique clicks / delivered;
    click-to-open = unique clicks / unique opens; bounce = (hard + soft bounces) / sent;
    unsubscribe and complaint = their count / delivered. A rate over nothing is 0.
    """
    return campaign_reports([campaign])[campaign.pk]


def campaign_links(campaign: EmailCampaign):
    """The campaign's tracked links, most clicked first."""
    return CampaignLink.objects.filter(campaign=campaign).order_by("-clicks_total", "index")


@dataclass(frozen=True)
class ActivityPoint:
    start: datetime  # in the account's time zone
    opens: int
    clicks: int


@dataclass(frozen=True)
class ActivitySeries:
    bucket: str  # "hour" or "day"
    timezone: str
    points: list[ActivityPoint]

    @property
    def opens(self) -> int:
        return sum(point.opens for point in self.points)

    @property
    def clicks(self) -> int:
        return sum(point.clicks for point in self.points)


def campaign_activity(campaign: EmailCampaign, *, bucket: str = "auto") -> ActivitySeries:
    """Human opens and clicks over time, every hour or day in the account's time zone, with
    empty buckets filled so that a chart's axis is regular.

    `bucket`: "hour", "day" or "auto" (hours over up to three days, else days). Hours are kept
    for spans up to 31 days; a longer span is always shown by day.
    """
    tz_name = campaign.account.timezone
    tz = zoneinfo.ZoneInfo(tz_name)
    rows = list(
        CampaignActivity.objects.filter(campaign=campaign)
        .order_by("hour")
        .values_list("hour", "opens", "clicks")
    )
    if not rows:
        return ActivitySeries(
            bucket="day" if bucket == "day" else "hour", timezone=tz_name, points=[]
        )
    first, last = rows[0][0], rows[-1][0]
    if bucket not in {"hour", "day"}:
        bucket = "hour" if last - first <= AUTO_HOURLY_SPAN else "day"
    if bucket == "hour" and last - first > MAX_HOURLY_SPAN:
        bucket = "day"
    if bucket == "hour":
        by_hour = {hour: (opens, clicks) for hour, opens, clicks in rows}
        points = []
        hour = first
        while hour <= last:
            opens, clicks = by_hour.get(hour, (0, 0))
            points.append(ActivityPoint(start=hour.astimezone(tz), opens=opens, clicks=clicks))
            hour += timedelta(hours=1)
        return ActivitySeries(bucket="hour", timezone=tz_name, points=points)
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for hour, opens, clicks in rows:
        totals = by_day[hour.astimezone(tz).date()]
        totals[0] += opens
        totals[1] += clicks
    day, end = min(by_day), max(by_day)
    points = []
    while day <= end:
        opens, clicks = by_day.get(day, (0, 0))
        points.append(
            ActivityPoint(
                start=datetime.combine(day, time(0), tzinfo=tz), opens=opens, clicks=clicks
            )
        )
        day += timedelta(days=1)
    return ActivitySeries(bucket="day", timezone=tz_name, points=points)


@dataclass(frozen=True)
class Share:
    name: str
    label: str
    opens: int
    share: float  # of the human opens counted by device and client


@dataclass(frozen=True)
class ClientBreakdown:
    opens: int
    devices: list[Share]
    clients: list[Share]


def campaign_clients(campaign: EmailCampaign) -> ClientBreakdown:
    """Human opens by device kind and by mail client (summed over devices), largest first."""
    rows = CampaignClient.objects.filter(campaign=campaign).values_list("device", "client", "opens")
    devices: dict[str, int] = defaultdict(int)
    clients: dict[str, int] = defaultdict(int)
    for device, client, opens in rows:
        devices[device or "other"] += opens
        clients[client or ""] += opens
    total = sum(devices.values())

    def shares(totals: dict[str, int], label) -> list[Share]:
        ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return [
            Share(name=name, label=str(label(name)), opens=opens, share=rate(opens, total))
            for name, opens in ordered
        ]

    return ClientBreakdown(
        opens=total,
        devices=shares(devices, lambda name: DEVICE_LABELS.get(name, name)),
        clients=shares(clients, lambda name: name or _("Unknown")),
    )
