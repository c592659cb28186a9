"""Inbound SMS: a person's reply (Twilio's inbound webhook, an SMPP deliver_sm), kept for the
account that wrote to them last, and a STOP honoured at once.

A reply is attributed to the last SMS actually sent to that number (any account: replies to a
shared short code such as 36180 name no account; a reply to a number an account sends from is
that account's), and to its campaign, where STOP replies are counted. A STOP-like reply suppresses the number for SMS in that account, sets the contacts'
`sms_status` to unsubscribed and writes the consent ledger (source "SMS reply") with its proof
(provider, the provider's message id, the text as received, when). A long reply that comes in
parts (SMPP) is one reply once its parts are together. The suppression is what keeps imports and
API calls from subscribing the number again (contacts.services.consent.status_after).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction

from contacts.models import Channel, ConsentRecord, ConsentStatus, Contact, Suppression
from contacts.services.consent import ConsentProof, consent_change, suppression_add
from sms.models import SmsMessage, SmsReply, SmsReplyPart, SmsSender

# Compared once accents, case, surrounding punctuation and repeated spaces are gone.
STOP_WORDS = frozenset(
    {
        "STOP",
        "STOP SMS",
        "STOPSMS",
        "ARRET",
        "ARRET SMS",
        "UNSUBSCRIBE",
        "DESABONNER",
        "DESABONNEMENT",
        "DESINSCRIRE",
        "DESINSCRIPTION",
    }
)
# How long the parts of a long inbound SMS wait for each other: a phone sends them within
# seconds; past this, a part is taken for a leftover and its reference for a new message's.
PART_WAIT = timedelta(hours=1)
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"[\W_]+")


def normalized(text: str) -> str:
    without_accents = "".join(
        character
        for character in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(character)
    )
    return _SPACES.sub(" ", _EDGES.sub("", without_accents.upper())).strip()


def is_stop(text: str) -> bool:
    return normalized(text) in STOP_WORDS


def _last_sent_to(mobile: str, to: str) -> SmsMessage | None:
    """The last SMS sent to `mobile`; when `to` is a number some account sends from, the last
    one sent from that number (a reply to an account's own number is for that account)."""
    messages = SmsMessage.objects.filter(mobile=mobile, status=SmsMessage.Status.SENT).exclude(
        sent_at=None
    )
    number = to if to.startswith("+") else f"+{to}"
    if len(number) > 7 and SmsSender.objects.filter(value=number).exists():
        messages = messages.filter(campaign__sender__value=number)
    return messages.select_related("campaign__account").order_by("-sent_at", "-pk").first()


def reply_received(
    *, provider: str, provider_id: str, mobile: str, to: str, text: str, received_at: datetime
) -> SmsReply:
    """Keep one inbound SMS and act on a STOP. The same (provider, provider_id) twice is one
    reply: the second call returns the first and changes nothing."""
    existing = SmsReply.objects.filter(provider=provider, provider_id=provider_id).first()
    if existing is not None:
        return existing
    last = _last_sent_to(mobile, to)
    account = last.campaign.account if last else None
    contacts = list(Contact.objects.filter(account=account, mobile=mobile)) if account else []
    try:
        with transaction.atomic():
            reply = SmsReply.objects.create(
                account=account,
                campaign=last.campaign if last else None,
                contact=contacts[0] if contacts else None,
                provider=provider,
                provider_id=provider_id,
                mobile=mobile,
                to=to,
                text=text,
                is_stop=is_stop(text),
                received_at=received_at,
            )
            if reply.is_stop and account is not None:
                _unsubscribe(account, contacts, reply)
    except IntegrityError:  # the same reply, delivered twice at once
        return SmsReply.objects.get(provider=provider, provider_id=provider_id)
    return reply


def _unsubscribe(account, contacts: list[Contact], reply: SmsReply) -> None:
    suppression_add(
        account=account,
        channel=Channel.SMS,
        address=reply.mobile,
        reason=Suppression.Reason.UNSUBSCRIBED,
    )
    at = reply.received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    proof = ConsentProof(
        source=ConsentRecord.Source.SMS_REPLY,
        wording=reply.text,
        form=f"SMS reply to {reply.to}, received {at}"[:200],
        actor=f"{reply.provider}:{reply.provider_id}"[:200],
    )
    for contact in contacts:
        consent_change(
            contact=contact, channel=Channel.SMS, status=ConsentStatus.UNSUBSCRIBED, proof=proof
        )


def stop_count(campaign) -> int:
    """STOP replies attributed to `campaign`."""
    return SmsReply.objects.filter(campaign=campaign, is_stop=True).count()


def _lock(key: str) -> None:
    """Serialise the parts of one long SMS across processes (PostgreSQL; SQLite's writes are
    serial already): without it, the last two parts arriving at once in two sessions would each
    miss the other's uncommitted row, and the text would never be whole."""
    if connection.vendor == "postgresql":
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


@transaction.atomic
def reply_part_received(
    *,
    provider: str,
    mobile: str,
    to: str,
    reference: int,
    total: int,
    number: int,
    text: str,
    received_at: datetime,
) -> SmsReply | None:
    """Keep one part of a long inbound SMS; with the last one, the whole text is one reply
    (reply_received). Returns that reply, or None while parts are missing. Parts older than
    PART_WAIT are dropped first: the phone's 8-bit reference comes round again."""
    key = {"provider": provider, "mobile": mobile, "to": to, "reference": reference}
    _lock(f"{provider}|{mobile}|{to}|{reference}|{total}")
    SmsReplyPart.objects.filter(**key, received_at__lt=received_at - PART_WAIT).delete()
    SmsReplyPart.objects.bulk_create(
        [SmsReplyPart(**key, total=total, number=number, text=text, received_at=received_at)],
        ignore_conflicts=True,
    )
    parts = list(SmsReplyPart.objects.filter(**key, total=total).order_by("number"))
    if [part.number for part in parts] != list(range(1, total + 1)):
        return None
    whole = "".join(part.text for part in parts)
    first = min(part.received_at for part in parts)
    # The same parts make the same id: a process completing them again finds the reply.
    digest = hashlib.sha256(
        f"{mobile}|{to}|{reference}|{total}|{first.isoformat()}|{whole}".encode()
    ).hexdigest()
    reply = reply_received(
        provider=provider,
        provider_id=f"parts:{digest[:40]}",
        mobile=mobile,
        to=to,
        text=whole,
        received_at=max(part.received_at for part in parts),
    )
    SmsReplyPart.objects.filter(pk__in=[part.pk for part in parts]).delete()
    return reply
