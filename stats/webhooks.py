"""Receivers of django-anymail tracking webhooks: bounces, complaints and unsubscribes reported by
ESPs (DESIGN §6).

Anymail's views check each ESP's signature (or basic auth) before any event reaches this module,
and answer 400 to a request that fails; here an event is only translated and recorded. The send
pipeline puts the message's pk in the ESP metadata; the Message-ID is the fallback.
"""

import logging
import re

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.dispatch import receiver
from django.utils import timezone

from campaigns.models import Message
from campaigns.signals import message_delivered
from stats.bounces import message_by_message_id
from stats.services.events import (
    announce,
    record_bounce,
    record_complaint,
    record_unsubscribe,
)

logger = logging.getLogger(__name__)

METADATA_KEY = "sendethic_message_id"

# Anymail files an ESP's final soft bounce and its hard ones alike under "bounced"; the raw
# event or the SMTP reply tells them apart.
SOFT_ESP_EVENTS = {"soft_bounce"}  # Mandrill
SMTP_STATUS = re.compile(r"(?<![\d.])([245])(?:\d\d[ -]|\.\d{1,3}\.\d{1,3}(?![\d.]))")
# An ESP that refuses to send because the address bounced before or does not exist says the
# same as a hard bounce; its other refusals (its own policy, sandbox limits) say nothing.
UNDELIVERABLE_REJECTIONS = {RejectReason.BOUNCED, RejectReason.INVALID}
RECORDED_EVENTS = {
    EventType.BOUNCED,
    EventType.REJECTED,
    EventType.COMPLAINED,
    EventType.UNSUBSCRIBED,
}


@receiver(tracking, dispatch_uid="stats.webhooks.tracking_event_record")
def tracking_event_record(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    source = f"webhook:{esp_name.lower()}"[:30]
    if event.event_type == EventType.DELIVERED:
        _announce_delivery(event)
        return
    if event.event_type not in RECORDED_EVENTS:
        # Deferred: the ESP is still retrying and reports the final outcome later. Failed: the
        # ESP could not send (its own error), which says nothing about the recipient.
        return
    message = _event_message(event)
    if message is None:
        logger.info(
            "%s %s event for an unknown message (%s)", esp_name, event.event_type, event.message_id
        )
        return
    texts = (event.mta_response, event.description)
    diagnostic = " — ".join(dict.fromkeys(" ".join(text.split()) for text in texts if text))
    if event.event_type == EventType.COMPLAINED:
        record_complaint(
            message=message, source=source, detail=diagnostic, occurred_at=event.timestamp
        )
    elif event.event_type == EventType.UNSUBSCRIBED:
        record_unsubscribe(message=message, source=source)
    elif event.event_type == EventType.BOUNCED:
        record_bounce(
            message=message,
            permanent=_is_permanent(event),
            source=source,
            diagnostic=diagnostic,
            occurred_at=event.timestamp,
        )
    elif event.reject_reason in UNDELIVERABLE_REJECTIONS:
        record_bounce(
            message=message,
            permanent=True,
            source=source,
            diagnostic=diagnostic or str(event.reject_reason),
            occurred_at=event.timestamp,
        )


def _announce_delivery(event: AnymailTrackingEvent) -> None:
    """Deliveries are not recorded (a sent message counts as delivered until it bounces), only
    passed on to whoever listens; the message is not even looked up when no one does."""
    if not message_delivered.has_listeners(Message):
        return
    message = _event_message(event)
    if message is None:
        return
    announce(
        message_delivered, message_id=message.pk, campaign_id=message.campaign_id,
        account_id=message.campaign.account_id, contact_id=message.contact_id,
        at=event.timestamp or timezone.now(),
    )  # fmt: skip


def _event_message(event: AnymailTrackingEvent) -> Message | None:
    pk = str((event.metadata or {}).get(METADATA_KEY, ""))
    if pk.isdigit():
        message = Message.objects.filter(pk=int(pk)).first()
        # The metadata is ours, but a recipient mismatch means another installation's message
        # (shared ESP account) that happens to use the same pk.
        if message is not None and (
            not event.recipient or event.recipient.lower() == message.email.lower()
        ):
            return message
    return message_by_message_id(event.message_id) if event.message_id else None


def _is_permanent(event: AnymailTrackingEvent) -> bool:
    esp_event = event.esp_event
    raw_type = esp_event.get("event", "") if isinstance(esp_event, dict) else ""
    if raw_type in SOFT_ESP_EVENTS:
        return False
    match = SMTP_STATUS.search(event.mta_response or "")
    return not (match and match.group(1) == "4")
