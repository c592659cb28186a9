"""Delivery receipts: what the provider learnt from the network about an SMS it accepted
(Twilio's status callback, an SMPP deliver_sm receipt), written on the message.

Only final receipts change anything: delivered, or failed with the provider's code and words.
Every write is a conditional UPDATE, so a receipt delivered twice (webhooks and SMSCs retry
until they are acknowledged) changes nothing the second time, and two receipts racing each
other end in the same state in either order:

- "delivered" is final: nothing overwrites it. It is the handset's own acknowledgement.
- "failed" is written only over "no receipt yet", then a later "delivered" replaces it. Networks
  do report a failure and then deliver (a carrier's retry after an intermediate UNDELIV, an
  EXPIRED from one SMSC and a DELIVRD from the next); the phone has the text, so the report, the
  cost and the contact's history must say delivered. A second failure keeps the first reason.

Each change of state is announced with the engine's events (campaigns.signals
message_delivered, message_bounced: "hard" when the number is dead, else "soft"), after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from accounts.domain_events import send_on_commit
from campaigns.engine.channel import channel_named
from campaigns.engine.journal import fold_provider_id
from campaigns.signals import message_bounced, message_delivered
from contacts.models import Channel, Suppression
from contacts.services.consent import suppression_add
from sms.models import SmsMessage, SmsMessagePart

Delivery = SmsMessage.Delivery


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    delivery: str  # Delivery.DELIVERED or Delivery.FAILED
    at: datetime
    code: str = ""
    reason: str = ""
    # The network says this number cannot receive SMS at all: suppress it, as a hard bounce.
    dead_number: bool = False


def _write(queryset, receipt: Receipt, *, details: bool = True) -> int:
    """The receipt on the rows of `queryset` that it may change. `details`: the message's
    date, code and reason columns (a part has only its state)."""
    if receipt.delivery == Delivery.DELIVERED:
        extra = {"delivered_at": receipt.at, "delivery_code": "", "delivery_reason": ""}
        return queryset.exclude(delivery=Delivery.DELIVERED).update(
            delivery=Delivery.DELIVERED, **(extra if details else {})
        )
    extra = {"delivery_code": receipt.code[:32], "delivery_reason": receipt.reason[:200]}
    return queryset.filter(delivery=Delivery.UNKNOWN).update(
        delivery=Delivery.FAILED, **(extra if details else {})
    )


def _message_for(provider_id: str):
    """The message a provider id names: the message's own id, or one of its parts'."""
    by_own_id = SmsMessage.objects.filter(message_id=provider_id).select_related(
        "campaign__account"
    )
    message = by_own_id.first()
    if message is None and fold_provider_id(channel_named("sms"), provider_id):
        # Sent moments ago: the engine had it in its journal, not yet in the message table.
        message = by_own_id.first()
    if message is not None:
        return message, None
    part = (
        SmsMessagePart.objects.filter(provider_id=provider_id)
        .select_related("message__campaign__account")
        .first()
    )
    if part is not None:
        return part.message, part
    return None, None


@transaction.atomic
def receipt_apply(receipt: Receipt) -> SmsMessage | None:
    """Write one final receipt. Returns the message it is about, None when no message has that
    provider id (yet: the provider may answer before the send is recorded)."""
    message, part = _message_for(receipt.provider_id)
    if message is None:
        return None
    parts = SmsMessagePart.objects.filter(message=message)
    the_message = SmsMessage.objects.filter(pk=message.pk)
    changed = 0
    if part is None and not parts.exists():
        changed = _write(the_message, receipt)
    else:
        # A concatenated SMS (the message's own id is its first part's).
        number = part.number if part is not None else 1
        _write(parts.filter(number=number), receipt, details=False)
        whole = receipt.delivery == Delivery.FAILED or all(
            state == Delivery.DELIVERED for state in parts.values_list("delivery", flat=True)
        )
        if whole:
            changed = _write(the_message, receipt)
    if receipt.delivery == Delivery.FAILED and receipt.dead_number:
        suppression_add(
            account=message.campaign.account,
            channel=Channel.SMS,
            address=message.mobile,
            reason=Suppression.Reason.HARD_BOUNCE,
        )
    if changed:
        _announce(message, receipt)
    message.refresh_from_db()
    return message


def _announce(message: SmsMessage, receipt: Receipt) -> None:
    """The engine's delivery events (campaigns.signals), once per change of state."""
    payload = {
        "sender": SmsMessage,
        "message_id": message.pk,
        "campaign_id": message.campaign_id,
        "account_id": message.campaign.account_id,
        "contact_id": message.contact_id,
        "channel": "sms",
        "at": receipt.at,
    }
    if receipt.delivery == Delivery.DELIVERED:
        send_on_commit(message_delivered, **payload)
    else:
        kind = "hard" if receipt.dead_number else "soft"
        detail = f"{receipt.code} {receipt.reason}".strip()
        send_on_commit(message_bounced, **payload, kind=kind, detail=detail)


def delivery_counts(campaign) -> dict[str, int]:
    """Messages of `campaign` by what their receipts said."""
    messages = SmsMessage.objects.filter(campaign=campaign)
    return {
        "delivered": messages.filter(delivery=Delivery.DELIVERED).count(),
        "failed": messages.filter(delivery=Delivery.FAILED).count(),
        "awaiting": messages.filter(Q(delivery=Delivery.UNKNOWN), status="sent").count(),
    }
