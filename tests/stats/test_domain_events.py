"""Stats tells the listening apps what it learns of a sent message (campaigns/signals.py), once
the write is committed: bounces and complaints as they are recorded, deliveries reported by ESP
webhooks, opens and clicks as hits are ingested."""

from datetime import timedelta

import pytest
from anymail.signals import AnymailTrackingEvent, EventType
from django.utils import timezone

from campaigns.models import EmailCampaign, Message
from campaigns.signals import (
    message_bounced,
    message_clicked,
    message_complained,
    message_delivered,
    message_opened,
)
from stats.models import TrackingHit
from stats.services.events import record_bounce, record_complaint
from stats.services.ingest import ingest_pending
from stats.webhooks import tracking_event_record
from tests.factories import (
    CampaignLinkFactory,
    ContactFactory,
    EmailCampaignFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)


@pytest.fixture
def heard():
    """What each message signal carried, per signal, while the test runs."""
    signals = {
        "bounced": message_bounced, "complained": message_complained,
        "delivered": message_delivered, "opened": message_opened, "clicked": message_clicked,
    }  # fmt: skip
    received: dict[str, list[dict]] = {name: [] for name in signals}
    receivers = {}
    for name, signal in signals.items():

        def receiver(sender, signal=None, _name=name, **payload):
            received[_name].append({"sender": sender, **payload})

        receivers[name] = receiver
        signal.connect(receiver, weak=False)
    yield received
    for name, signal in signals.items():
        signal.disconnect(receivers[name])


@pytest.fixture
def message(account) -> Message:
    contact = ContactFactory(account=account, email="zoe@example.com", email_status="subscribed")
    campaign = EmailCampaignFactory(
        account=account, name="Soldes", subject="Soldes", status=EmailCampaign.Status.FINISHED
    )
    return MessageFactory(
        campaign=campaign, contact=contact, status=Message.Status.SENT,
        sent_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip


def _about(message: Message) -> dict:
    return {
        "sender": Message, "message_id": message.pk, "campaign_id": message.campaign_id,
        "account_id": message.campaign.account_id, "contact_id": message.contact_id,
        "channel": "email",
    }  # fmt: skip


def test_a_recorded_bounce_is_announced_once_committed_and_only_once(
    message, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = record_bounce(
            message=message, permanent=True, source="dsn", diagnostic="550 5.1.1 no such user"
        )
        assert heard["bounced"] == []  # nothing said before the commit
    assert len(callbacks) == 1
    assert heard["bounced"] == [
        {**_about(message), "at": event.occurred_at, "kind": "hard",
         "detail": "550 5.1.1 no such user"}
    ]  # fmt: skip

    # the same report again records nothing, so announces nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert record_bounce(message=message, permanent=True, source="dsn") is None
    assert len(heard["bounced"]) == 1


def test_a_soft_bounce_and_a_complaint_are_announced(
    message, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        soft = record_bounce(message=message, permanent=False, source="dsn", diagnostic="4.2.2")
        complaint = record_complaint(message=message, source="arf", detail="abuse report")
    assert heard["bounced"] == [
        {**_about(message), "at": soft.occurred_at, "kind": "soft", "detail": "4.2.2"}
    ]
    assert heard["complained"] == [{**_about(message), "at": complaint.occurred_at}]


def test_a_delivery_an_esp_reports_is_announced(message, heard, django_capture_on_commit_callbacks):
    at = timezone.now()
    event = AnymailTrackingEvent(
        event_type=EventType.DELIVERED, timestamp=at, recipient=message.email,
        metadata={"sendethic_message_id": str(message.pk)}, message_id="<x@esp>",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        tracking_event_record(sender=None, event=event, esp_name="Mailgun")
    assert heard["delivered"] == [{**_about(message), "at": at}]
    assert heard["bounced"] == []


def test_ingested_opens_and_clicks_are_announced_with_machine_and_url(
    message, heard, django_capture_on_commit_callbacks
):
    link = CampaignLinkFactory(campaign=message.campaign, index=0, url="https://shop.fr/soldes")
    now = timezone.now()
    hit = {"campaign_id": message.campaign_id, "message_id": message.pk, "occurred_at": now}
    TrackingHit.objects.create(kind=TrackingHit.Kind.OPEN, user_agent=IPHONE, **hit)
    TrackingHit.objects.create(kind=TrackingHit.Kind.CLICK, link_index=0, user_agent=IPHONE, **hit)
    # a prefetch (HEAD) is a machine's open
    TrackingHit.objects.create(kind=TrackingHit.Kind.OPEN, method="HEAD", user_agent=IPHONE, **hit)

    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_pending() == 3
    assert heard["opened"] == [
        {**_about(message), "at": now, "machine": False},
        {**_about(message), "at": now, "machine": True},
    ]
    assert heard["clicked"] == [{**_about(message), "at": now, "machine": False, "url": link.url}]
