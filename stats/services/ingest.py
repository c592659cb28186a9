"""Folding raw tracking hits into events and counters, in batches (DESIGN §6).

The tracking endpoints only append `TrackingHit` rows, so a burst of opens never waits on a lock.
This worker takes a batch (SKIP LOCKED: several may run), classifies each hit (person or machine,
device, client), writes the events, the messages' first open/click and every counter the reports
read, then deletes the batch — all in one transaction, so a crash leaves either nothing done or
everything done, and no hit is counted twice.
"""

from collections import Counter, defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from campaigns.models import CampaignLink, EmailCampaign, Message
from campaigns.signals import message_clicked, message_opened
from stats.models import CampaignActivity, CampaignClient, EmailEvent, TrackingHit
from stats.services.events import announce, bump_counters, reset_soft_bounces
from stats.useragents import describe, machine_reason

BATCH_SIZE = 2000


def ingest_pending(max_batches: int = 50, batch_size: int = BATCH_SIZE) -> int:
    """Ingest waiting hits, batch after batch; returns how many hits were processed."""
    done = 0
    for _batch in range(max_batches):
        count = ingest_batch(batch_size)
        done += count
        if count < batch_size:
            break
    return done


def _upsert_add(model, key_columns: dict, amounts: dict) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n (PostgreSQL and SQLite ≥ 3.24)."""
    table = model._meta.db_table
    columns = [*key_columns, *amounts]
    placeholders = ", ".join(["%s"] * len(columns))
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in amounts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}",
            [*key_columns.values(), *amounts.values()],
        )


@transaction.atomic
def ingest_batch(batch_size: int = BATCH_SIZE) -> int:
    hits = list(TrackingHit.objects.select_for_update(skip_locked=True).order_by("id")[:batch_size])
    if not hits:
        return 0
    # Lock the messages (in id order, so two ingesters never deadlock): "first open" and the
    # unique counters are decided here and must not be decided twice.
    messages = {
        message.pk: message
        for message in Message.objects.select_for_update()
        .filter(pk__in={hit.message_id for hit in hits})
        .only("id", "campaign_id", "contact_id", "email", "sent_at", "first_opened_at",
              "first_clicked_at")
        .order_by("pk")
    }  # fmt: skip
    campaign_ids = {message.campaign_id for message in messages.values()}
    accounts = dict(
        EmailCampaign.objects.filter(pk__in=campaign_ids).values_list("pk", "account_id")
    )
    links = {
        (link.campaign_id, link.index): link
        for link in CampaignLink.objects.filter(campaign_id__in=campaign_ids)
    }
    clicked_links = set(
        EmailEvent.objects.filter(
            message_id__in=messages, kind=EmailEvent.Kind.CLICK, machine_reason=""
        ).values_list("message_id", "link_id")
    )
    too_fast = settings.MACHINE_EVENT_SECONDS
    # Asked once per batch: with no listener the loop stays as fast as before.
    announce_to = {
        EmailEvent.Kind.OPEN: message_opened if message_opened.has_listeners(Message) else None,
        EmailEvent.Kind.CLICK: message_clicked if message_clicked.has_listeners(Message) else None,
    }

    events: list[EmailEvent] = []
    counters: dict[int, Counter] = defaultdict(Counter)
    link_counters: dict[int, Counter] = defaultdict(Counter)
    hourly: dict[tuple, Counter] = defaultdict(Counter)
    clients: Counter = Counter()
    first_opened: dict[int, object] = {}
    first_clicked: dict[int, object] = {}
    engaged: dict[int, set[str]] = defaultdict(set)  # account → addresses that showed up

    for hit in hits:
        message = messages.get(hit.message_id)
        if message is None or message.campaign_id != hit.campaign_id:
            continue  # the campaign or message was deleted since
        campaign_id = message.campaign_id
        link = None
        if hit.kind == TrackingHit.Kind.CLICK:
            link = links.get((campaign_id, hit.link_index))
            if link is None:
                continue
        since_send = (
            (hit.occurred_at - message.sent_at).total_seconds() if message.sent_at else None
        )
        reason = machine_reason(
            user_agent=hit.user_agent,
            ip_address=hit.ip_address,
            method=hit.method,
            seconds_after_send=since_send,
            too_fast_seconds=too_fast,
        )
        agent = describe(hit.user_agent)
        kind = EmailEvent.Kind.OPEN if hit.kind == TrackingHit.Kind.OPEN else EmailEvent.Kind.CLICK
        events.append(
            EmailEvent(
                account_id=accounts[campaign_id],
                campaign_id=campaign_id,
                message_id=message.pk,
                contact_id=message.contact_id,
                kind=kind,
                link=link,
                occurred_at=hit.occurred_at,
                machine_reason=reason,
                user_agent=hit.user_agent[:500],
                ip_address=hit.ip_address,
                device=agent.device,
                client=agent.client,
                os=agent.os,
                source="tracking",
            )
        )
        if announce_to[kind] is not None:
            extra = {"url": link.url} if link is not None else {}
            announce(
                announce_to[kind], message_id=message.pk, campaign_id=campaign_id,
                account_id=accounts[campaign_id], contact_id=message.contact_id,
                at=hit.occurred_at, machine=bool(reason), **extra,
            )  # fmt: skip
        hour = hit.occurred_at.replace(minute=0, second=0, microsecond=0)
        stats = counters[campaign_id]
        if reason:
            stats["machine_opens" if kind == EmailEvent.Kind.OPEN else "machine_clicks"] += 1
            if link is not None:
                link_counters[link.pk]["machine_clicks"] += 1
            continue
        engaged[accounts[campaign_id]].add(message.email)
        # A person's click proves the message was opened, even with images blocked.
        if message.first_opened_at is None and message.pk not in first_opened:
            first_opened[message.pk] = hit.occurred_at
            stats["opens_unique"] += 1
        if kind == EmailEvent.Kind.OPEN:
            stats["opens_total"] += 1
            hourly[(campaign_id, hour)]["opens"] += 1
            clients[(campaign_id, agent.device, agent.client)] += 1
            continue
        stats["clicks_total"] += 1
        hourly[(campaign_id, hour)]["clicks"] += 1
        link_counters[link.pk]["clicks_total"] += 1
        if message.first_clicked_at is None and message.pk not in first_clicked:
            first_clicked[message.pk] = hit.occurred_at
            stats["clicks_unique"] += 1
        if (message.pk, link.pk) not in clicked_links:
            clicked_links.add((message.pk, link.pk))
            link_counters[link.pk]["clicks_unique"] += 1

    EmailEvent.objects.bulk_create(events, batch_size=500)
    _set_first(messages, first_opened, "first_opened_at")
    _set_first(messages, first_clicked, "first_clicked_at")
    for campaign_id, increments in counters.items():
        bump_counters(campaign_id, **increments)
    for link_id, increments in link_counters.items():
        CampaignLink.objects.filter(pk=link_id).update(
            **{name: F(name) + amount for name, amount in increments.items()}
        )
    for (campaign_id, hour), amounts in hourly.items():
        _upsert_add(
            CampaignActivity,
            {"campaign_id": campaign_id, "hour": hour},
            {"opens": amounts["opens"], "clicks": amounts["clicks"]},
        )
    for (campaign_id, device, client), opens in clients.items():
        _upsert_add(
            CampaignClient,
            {"campaign_id": campaign_id, "device": device, "client": client},
            {"opens": opens},
        )
    for account_id, emails in engaged.items():
        reset_soft_bounces(account_id, emails)
    TrackingHit.objects.filter(pk__in=[hit.pk for hit in hits]).delete()
    return len(hits)


def _set_first(messages: dict, firsts: dict, field: str) -> None:
    if not firsts:
        return
    changed = []
    for pk, moment in firsts.items():
        setattr(messages[pk], field, moment)
        changed.append(messages[pk])
    Message.objects.bulk_update(changed, [field], batch_size=500)
