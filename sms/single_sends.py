"""Transactional single sends (POST /api/v1/sms/send/): one number, one text, now.

They go through the send engine like a campaign's messages (claim, delivery, per-message record,
retries, lease recovery), as messages of one running campaign per account, sender and mode (live
or sandbox) marked `single_sends`, each with its own text. The number need not be a contact:
an order confirmation or a one-time code goes to whoever gave the number. Transactional means no
opt-out mention and no legal hours (the campaign's kind), but a number that replied STOP (or is
otherwise suppressed for SMS) is refused.

The caller's Idempotency-Key makes a retried call safe: the same key with the same number, text,
sender and mode answers what the first call did and sends nothing more; the same key with
anything else is refused (409).
"""

import hashlib
import json
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConflictError
from accounts.services import ensure_account_may_send
from campaigns.engine import lifecycle
from campaigns.engine.channel import DeliveryInterrupted
from campaigns.engine.sending import lease, message_send_one
from contacts.models import Channel, Suppression, address_hash
from contacts.normalization import InvalidValue, normalize_phone
from sms.channel import SMS
from sms.models import OutboxSms, SingleSendKey, SmsCampaign, SmsMessage, SmsSender
from sms.services import SmsError, SmsNotReady

MAX_KEY_LENGTH = 200
# Printable ASCII, as an HTTP header carries it whole.
KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")


class NumberSuppressed(ConflictError):
    code = "number_suppressed"


class IdempotencyKeyReused(ConflictError):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(ConflictError):
    code = "idempotency_key_in_use"


@dataclass(frozen=True)
class SingleSend:
    message: SmsMessage
    sender: str
    sandbox: bool
    # True when the key had been seen: this call created nothing (it only tried again an SMS
    # still waiting for the provider, if it was one).
    replayed: bool


def _mobile(account, value: str) -> str:
    try:
        return normalize_phone(value, account.default_phone_region or "FR")
    except InvalidValue as error:
        raise SmsError(
            {"mobile": _("Give a valid mobile number, in international format (+33…).")}
        ) from error


def _sender(account, value: str | None) -> SmsSender:
    senders = SmsSender.objects.filter(account=account)
    if value:
        found = senders.filter(value=value).first()
        if found is None:
            raise SmsError(
                {"sender": _("This sender is not one of the account's: add it first.")},
                code="unknown_sender",
            )
        return found
    found = senders.order_by("pk").first()
    if found is None:
        raise SmsNotReady({"sender": _("Add an SMS sender to the account first.")})
    return found


def _open_campaign(account, sender: SmsSender, sandbox: bool) -> SmsCampaign:
    """The running campaign of the account's single sends from `sender`, created on first use:
    a standing campaign, which the engine never finishes for an empty queue."""
    campaigns = SmsCampaign.objects.filter(
        account=account, single_sends=True, sender=sender, sandbox=sandbox
    ).exclude(status=SmsCampaign.Status.CANCELLED)
    campaign = campaigns.first()
    if campaign is None:
        try:
            with transaction.atomic():
                campaign = SmsCampaign.objects.create(
                    account=account,
                    single_sends=True,
                    sender=sender,
                    sandbox=sandbox,
                    kind=SmsCampaign.Kind.TRANSACTIONAL,
                    name=(
                        _("Transactional SMS from %(sender)s (sandbox)")
                        if sandbox
                        else _("Transactional SMS from %(sender)s")
                    )
                    % {"sender": sender.value},
                    status=SmsCampaign.Status.RUNNING,
                    started_at=timezone.now(),
                    standing=True,
                )
        except IntegrityError:  # another first send created it meanwhile
            campaign = campaigns.get()
    return campaign


def _suppressed(account, mobile: str) -> bool:
    return Suppression.objects.filter(
        account=account, channel=Channel.SMS, address_hash=address_hash(mobile)
    ).exists()


def _keep_in_outbox(campaign: SmsCampaign, message: SmsMessage) -> None:
    """A sandboxed single send is never handed to a provider; the outbox shows what it would
    have been, as the embedded outbox backend does for sent ones."""
    if message.status != SmsMessage.Status.SANDBOXED:
        return
    if OutboxSms.objects.filter(message=message).exists():
        return
    rendered = SMS.render(SMS.prepare(campaign), message)
    OutboxSms.objects.create(
        account_id=campaign.account_id,
        message=message,
        sender=rendered.sender,
        mobile=rendered.mobile,
        text=rendered.text,
        encoding=rendered.encoding,
        segments=rendered.segments,
    )


def _request_hash(number: str, text: str, sender_id: int, sandbox: bool) -> str:
    asked = json.dumps([number, text, sender_id, sandbox], ensure_ascii=False)
    return hashlib.sha256(asked.encode()).hexdigest()


def _reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        _("This Idempotency-Key was used for another SMS: use a new key for a new SMS.")
    )


def _take_key(account, key: str, request_hash: str) -> SingleSendKey:
    """Take the key for this request before anything is sent. Of two requests racing with one
    key only one gets it; the other is told whether it asked for something else (reused) or
    for the same SMS, still being sent (in use: its retry answers the result). A key held
    longer than a send lease by a request that created no message (its process died) is
    taken over."""
    try:
        with transaction.atomic():
            return SingleSendKey.objects.create(account=account, key=key, request_hash=request_hash)
    except IntegrityError:
        taken = SingleSendKey.objects.get(account=account, key=key)
    if taken.request_hash != request_hash:
        raise _reused()
    stale = taken.created_at < timezone.now() - lease()
    if stale and SingleSendKey.objects.filter(pk=taken.pk, created_at=taken.created_at).update(
        created_at=timezone.now()
    ):
        return taken
    raise IdempotencyKeyInUse(
        {
            "idempotency_key": _(
                "A request with this Idempotency-Key is still being sent: try it again in a "
                "few seconds to read its result."
            )
        }
    )


def _deliver(campaign: SmsCampaign, key: str, mobile: str, text: str) -> SmsMessage:
    try:
        message = message_send_one(
            campaign=campaign, idempotency_key=key, address=mobile, content={"text": text}
        )
    except DeliveryInterrupted:
        # The provider is unreachable: the message is back in the queue; a worker sends it (a
        # retry of the call with the same key tries it as well).
        lifecycle.enqueue_sends(SMS.name, campaign.pk)
        return SmsMessage.objects.get(campaign=campaign, idempotency_key=key)
    return message


def sms_send_single(
    *,
    account,
    mobile: str,
    text: str,
    idempotency_key: str,
    sender: str | None = None,
    sandbox: bool = False,
) -> SingleSend:
    """Send `text` to `mobile` now (call it outside a transaction, as the engine's single send)."""
    if not KEY.fullmatch(idempotency_key or ""):
        raise SmsError(
            {
                "idempotency_key": _(
                    "Send an Idempotency-Key header of 1 to 200 visible ASCII characters."
                )
            },
            code="idempotency_key_required",
        )
    if not text.strip():
        raise SmsError({"text": _("Write the text of the SMS.")})
    number = _mobile(account, mobile)
    chosen = _sender(account, sender)
    known = (
        SmsMessage.objects.filter(
            campaign__account=account, campaign__single_sends=True, idempotency_key=idempotency_key
        )
        .select_related("campaign")
        .first()
    )
    asked = _request_hash(number, text, chosen.pk, sandbox)
    if known is not None:
        campaign = known.campaign
        if _request_hash(known.mobile, known.text, campaign.sender_id, campaign.sandbox) != asked:
            raise _reused()
        if known.status != SmsMessage.Status.QUEUED:
            return SingleSend(known, chosen.value, sandbox, replayed=True)
        message = _deliver(known.campaign, idempotency_key, number, text)
    else:
        ensure_account_may_send(account)
        if _suppressed(account, number):
            raise NumberSuppressed(
                {"mobile": _("This number asked to receive no more SMS (STOP): not sent.")}
            )
        taken = _take_key(account, idempotency_key, asked)
        try:
            campaign = _open_campaign(account, chosen, sandbox)
            message = _deliver(campaign, idempotency_key, number, text)
        except BaseException:
            # Nothing was created for the key: free it for the caller's retry.
            if not SmsMessage.objects.filter(
                campaign__account=account, idempotency_key=idempotency_key
            ).exists():
                taken.delete()
            raise
    _keep_in_outbox(message.campaign, message)
    return SingleSend(message, chosen.value, sandbox, replayed=known is not None)
