"""The report of a 1,000,000-message campaign (issue goal: under 1 s).

A finished campaign with 1,000,000 messages (a few hundred bounced), 300,000 opens and 60,000
clicks already folded into counters, a month of hourly activity, 12 links and 20 clients. Timed:
the report's figures cold (message counts not cached: one GROUP BY on the (campaign, status)
index) and warm, the links, the activity chart and the clients, and the whole report page (HTTP
GET through Django, template included). Medians of 5 runs.

    DATABASE_URL=postgres://... python -m bench.report [--messages 1000000]
"""

import argparse
import statistics
import time
from datetime import timedelta

from bench.data import delete_bench_account
from bench.import_contacts import setup_django


def make_campaign(messages: int):
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, User
    from accounts.services import account_create
    from campaigns.models import CampaignLink, EmailCampaign
    from stats.models import CampaignActivity, CampaignClient, CampaignStats

    account = account_create(name=f"bench report {time.time()}")
    user = User.objects.create_user(email=f"bench-report-{account.pk}@example.com", password=None)
    Membership.objects.create(user=user, account=account, role=Membership.Role.OWNER)
    started = timezone.now() - timedelta(days=30)
    campaign = EmailCampaign.objects.create(
        account=account, name="bench 1M", subject="s", html="<p>x</p>",
        status=EmailCampaign.Status.FINISHED, started_at=started, finished_at=started,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_message (campaign_id, email, status, attempts, message_id, "
            "error, created_at, sent_at) SELECT %s, 'r' || n || '@example.com', "
            "CASE WHEN n %% 2000 = 0 THEN 'bounced' ELSE 'sent' END, 1, '', '', %s, %s "
            "FROM generate_series(1, %s) AS n",
            [campaign.pk, started, started, messages],
        )
        cursor.execute("ANALYZE campaigns_message")
    CampaignStats.objects.create(
        campaign=campaign, opens_total=300_000, opens_unique=210_000, machine_opens=90_000,
        clicks_total=60_000, clicks_unique=41_000, machine_clicks=7_000, unsubscribes=900,
        complaints=40, hard_bounces=120, soft_bounces=800,
    )  # fmt: skip
    CampaignLink.objects.bulk_create(
        CampaignLink(
            campaign=campaign,
            index=i,
            url=f"https://shop.example.com/p/{i}",
            clicks_total=5000,
            clicks_unique=3000,
        )  # fmt: skip
        for i in range(12)
    )
    hour = started.replace(minute=0, second=0, microsecond=0)
    CampaignActivity.objects.bulk_create(
        CampaignActivity(campaign=campaign, hour=hour + timedelta(hours=h), opens=400, clicks=80)
        for h in range(30 * 24)
    )
    CampaignClient.objects.bulk_create(
        CampaignClient(
            campaign=campaign,
            device=("desktop", "mobile")[i % 2],
            client=f"Client {i}",
            opens=1000 + i,
        )  # fmt: skip
        for i in range(20)
    )
    return account, user, campaign


def median_ms(function, runs: int = 5, before=None) -> float:
    timings = []
    for _run in range(runs):
        if before:
            before()
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    setup_django()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    from stats import selectors

    started = time.perf_counter()
    account, user, campaign = make_campaign(args.messages)
    print(f"setup: {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    url = f"/stats/campaigns/{campaign.pk}/"
    try:
        assert client.get(url).status_code == 200
        figures = {
            "report figures, cold (counts not cached)": median_ms(
                lambda: selectors.campaign_report(campaign), before=cache.clear
            ),
            "report figures, warm": median_ms(lambda: selectors.campaign_report(campaign)),
            "links": median_ms(lambda: list(selectors.campaign_links(campaign))),
            "activity chart": median_ms(lambda: selectors.campaign_activity(campaign)),
            "clients and devices": median_ms(lambda: selectors.campaign_clients(campaign)),
            "report page (HTTP), cold": median_ms(lambda: client.get(url), before=cache.clear),
            "report page (HTTP), warm": median_ms(lambda: client.get(url)),
        }
    finally:
        delete_bench_account(account)
        user.delete()
    print(f"report of a {args.messages:,}-message campaign, PostgreSQL, median of 5:")
    for name, value in figures.items():
        print(f"  {name:<42}{value:>9.1f} ms")
    worst = max(figures.values())
    print(f"goal: the report under 1 s: {'met' if worst < 1000 else 'NOT met'} ({worst:.0f} ms)")


if __name__ == "__main__":
    main()
