"""The account at a glance: recent email campaigns and their totals, the contact base."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Account
from campaigns.models import EmailCampaign
from contacts.models import SENDABLE_STATUSES, Channel, Contact, Suppression
from stats.selectors.campaigns import CampaignReport, campaign_reports, rate

CONTACT_COUNTS_SECONDS = 60


@dataclass(frozen=True)
class Dashboard:
    days: int
    since: datetime
    campaigns_sent: int
    messages_sent: int
    delivered: int
    opens_unique: int
    clicks_unique: int
    open_rate: float
    click_rate: float
    unsubscribes: int
    complaints: int
    contacts_total: int
    contacts_subscribed: int
    addresses_suppressed: int
    recent: list[CampaignReport]


def _contact_counts(account: Account) -> dict[str, int]:
    key = f"stats:contact-counts:{account.pk}"
    counts = cache.get(key)
    if counts is None:
        counts = Contact.objects.filter(account=account).aggregate(
            total=Count("pk"), subscribed=Count("pk", filter=Q(email_status__in=SENDABLE_STATUSES))
        )
        counts["suppressed"] = Suppression.objects.filter(
            account=account, channel=Channel.EMAIL
        ).count()
        cache.set(key, counts, CONTACT_COUNTS_SECONDS)
    return counts


def account_dashboard(
    account: Account, *, days: int = 30, recent: int = 10, now: datetime | None = None
) -> Dashboard:
    """The account at a glance: the email campaigns started in the last `days` days (sandboxed
    ones aside) and their totals, the contact base, and the latest campaigns with their rates.

    The period's open and click rates are its unique opens and clicks over its delivered
    messages — the campaigns' rates averaged by their size — so a small test send does not
    weigh as much as the monthly newsletter. Contacts "subscribed" may receive email (subscribed
    or soft opt-in); suppressed addresses include those of erased contacts.
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    started = EmailCampaign.objects.filter(account=account, started_at__isnull=False)
    in_period = list(started.filter(started_at__gte=since, sandbox=False))
    latest = list(started.order_by("-started_at", "-pk")[:recent])
    reports = campaign_reports({c.pk: c for c in [*in_period, *latest]}.values())
    period = [reports[campaign.pk] for campaign in in_period]
    delivered = sum(report.delivered for report in period)
    opens = sum(report.opens_unique for report in period)
    clicks = sum(report.clicks_unique for report in period)
    contacts = _contact_counts(account)
    return Dashboard(
        days=days,
        since=since,
        campaigns_sent=len(period),
        messages_sent=sum(report.sent for report in period),
        delivered=delivered,
        opens_unique=opens,
        clicks_unique=clicks,
        open_rate=rate(opens, delivered),
        click_rate=rate(clicks, delivered),
        unsubscribes=sum(report.unsubscribes for report in period),
        complaints=sum(report.complaints for report in period),
        contacts_total=contacts["total"],
        contacts_subscribed=contacts["subscribed"],
        addresses_suppressed=contacts["suppressed"],
        recent=[reports[campaign.pk] for campaign in latest],
    )
