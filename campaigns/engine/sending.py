"""Claim, deliver, record, recover.

Every message's outcome is committed as soon as the provider answers, outside any transaction,
so a worker killed at any moment re-sends at most the message in flight; a message whose lease
expires is put back in the queue.
"""

import contextlib
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.domain_events import send_on_commit
from accounts.errors import ServiceError
from campaigns.engine import journal
from campaigns.engine.audience import reachable
from campaigns.engine.channel import (
    BackendUnavailable,
    Channel,
    ConnectionLost,
    DeliveryInterrupted,
    PermanentFailure,
    RetryLater,
    Sent,
    channel_of,
)
from campaigns.engine.lifecycle import campaign_finish_if_done
from campaigns.pacing import wait_for_send_slot
from campaigns.signals import message_bounced, message_sent
from contacts.models import SENDABLE_STATUSES, Suppression, address_hash
from contacts.services.consent import suppression_add

# A batch costs a dozen round trips to the database (campaign, claim, messages, folds) and a
# connection to the provider, whatever its size: 500 makes them a few percent of the time of a
# fast provider (bench.sms_send), where 100 made them a fifth.
BATCH_SIZE = 500
MAX_ATTEMPTS = 5


def lease() -> timedelta:
    return timedelta(seconds=settings.SEND_LEASE_SECONDS)


def batch_size(rate: int) -> int:
    """At most BATCH_SIZE, and no more than the pace (`rate` messages a second) lets out in half
    a lease: a batch still being sent when its lease expires would be sent again."""
    return max(1, min(BATCH_SIZE, int(rate * lease().total_seconds() / 2)))


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2**attempts))


def claim_batch(channel: Channel, campaign_id: int, size: int = BATCH_SIZE) -> list[int]:
    """Take up to `size` due messages for this worker. SKIP LOCKED lets workers share a
    campaign without waiting on each other; SQLite (one worker) takes its write lock instead."""
    now = timezone.now()
    table = channel.message_model._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = 'sending', claimed_at = %s, attempts = attempts + 1 "  # noqa: S608
            f"WHERE id IN (SELECT id FROM {table} WHERE campaign_id = %s AND status = 'queued' "
            f"AND (next_attempt_at IS NULL OR next_attempt_at <= %s) ORDER BY id LIMIT %s{lock}) "
            f"RETURNING id",
            [now, campaign_id, now, size],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _claim_one(channel: Channel, pk: int) -> bool:
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    Message = channel.message_model  # noqa: N806
    return bool(
        Message.objects.filter(due, pk=pk, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def send_batch(
    channel: Channel, campaign_id: int, size: int | None = None, *, fold_in_background=False
) -> int:
    """Claim one batch (`size`, or as the pace allows: batch_size()) and deliver it over one
    connection. Returns how many were claimed; what the batch did is then in the message table.

    `fold_in_background`: return while PostgreSQL may still be folding the batch's outcomes
    (journal.fold_soon), so that the next batch's claim and loading overlap it. For a caller
    that sends batch after batch and closes the journal when done (send_campaign_task): the
    batch that finds nothing left waits for the fold before it finishes the campaign."""
    campaign = (
        channel.campaign_model.objects.select_related(*channel.campaign_related)
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None or campaign.status != channel.campaign_model.Status.RUNNING:
        return 0
    rate = channel.rate(campaign.account)
    ids = claim_batch(channel, campaign_id, size or batch_size(rate))
    if not ids:
        journal.flush()  # the last batch's fold (fold_soon) counts in what is done
        campaign_finish_if_done(campaign)
        return 0
    _send_claimed(channel, campaign, ids, rate)
    if not fold_in_background:
        journal.flush()
    return len(ids)


def _send_claimed(channel: Channel, campaign, ids: list[int], rate: int | None = None) -> None:
    Message = channel.message_model  # noqa: N806
    prepared = channel.prepare(campaign)
    if campaign.sandbox:
        Message.objects.filter(pk__in=ids, status=Message.Status.SENDING).update(
            status=Message.Status.SANDBOXED, sent_at=timezone.now()
        )
        return
    messages = list(_with_contacts(channel, Message.objects.filter(pk__in=ids)).order_by("pk"))
    backend = channel.backend(prepared)
    try:
        backend.open()
    except BackendUnavailable as error:
        _requeue(channel, ids, str(error))
        raise DeliveryInterrupted(str(error)) from error
    withdrawn = _withdrawn_since_frozen(channel, campaign.account, messages)
    rate = rate or channel.rate(campaign.account)
    pace_scope = f"{channel.name}:{campaign.account_id}"
    # Looked up once per batch: with no receiver, a message costs no signal at all.
    announce = message_sent.has_listeners(Message)
    unfolded: list[int] = []  # sent, in the journal, not yet in the message table
    without_waiting = journal.pipelined()
    folded_at = timezone.now()

    def settle(message, rendered, outcome) -> None:
        """Record one message's outcome (raises DeliveryInterrupted on a lost connection)."""
        nonlocal unfolded, folded_at
        if isinstance(outcome, Sent):
            journal.append(
                channel,
                message.pk,
                outcome.provider_id,
                channel.recorded_with_sent(rendered),
                without_waiting=without_waiting,
            )
            unfolded.append(message.pk)
            if timezone.now() - folded_at >= journal.FOLD_EVERY:
                journal.fold_soon(channel, unfolded)
                unfolded, folded_at = [], timezone.now()
            if announce:
                _announce(message_sent, channel, campaign, message)
        elif isinstance(outcome, ConnectionLost):
            _requeue(channel, [pk for pk in ids if pk >= message.pk], outcome.detail)
            raise DeliveryInterrupted(outcome.detail)
        else:
            _record_refusal(channel, campaign, message, outcome)

    # With a backend that hands a message and reads its answer apart (DeliveryBackend), the
    # next message is checked and rendered while the provider answers the one in flight; that
    # one's outcome is recorded before the pace is waited for and the next one handed, so at
    # most one message is ever sent and not recorded (the crash promise, DESIGN §5).
    splits = hasattr(backend, "hand")
    in_flight = None  # (message, rendered): handed, its answer not read yet
    try:
        for message in messages:
            if message.contact_id is None and not channel.addressed_without_contact(message):
                # erased since the audience was frozen
                _record(channel, message.pk, status=Message.Status.CANCELLED)
                continue
            if message.pk in withdrawn:
                _record(channel, message.pk, status=Message.Status.CANCELLED, error=WITHDRAWN_ERROR)
                continue
            # Asked before the pace (a deferred message takes no slot) and again after it, since
            # the allowed hours may close while the worker waits for its slot.
            if _deferred(channel, prepared, message):
                continue
            rendered = channel.render(prepared, message)
            if in_flight is not None:
                settle(*in_flight, backend.outcome())
                in_flight = None
            wait_for_send_slot(pace_scope, rate)
            if _deferred(channel, prepared, message):
                continue
            if splits:
                lost = backend.hand(rendered)
                if lost is not None:
                    settle(message, rendered, lost)  # requeues and raises DeliveryInterrupted
                in_flight = (message, rendered)
            else:
                settle(message, rendered, backend.send(rendered))
        if in_flight is not None:
            settle(*in_flight, backend.outcome())
            in_flight = None
    finally:
        if in_flight is not None:  # an error came between handing a message and its answer
            with contextlib.suppress(Exception):
                settle(*in_flight, backend.outcome())
        backend.close()
        journal.fold_soon(channel, unfolded)


WITHDRAWN_ERROR = "consent withdrawn or address suppressed after the audience was frozen"


def _withdrawn_since_frozen(channel: Channel, account, messages) -> set[int]:
    """The messages whose recipient may no longer be written to: an opt-out, a STOP reply, a
    bounce or a complaint since the audience was frozen (hours before, for a paced campaign)
    is honoured at the send, as the ePrivacy directive asks. The contacts' consent was read
    with the batch (`_with_contacts`); the frozen addresses' suppressions cost one query."""
    address_field = channel.message_address_field
    hashes = {m.pk: address_hash(getattr(m, address_field)) for m in messages}
    suppressed = set(
        Suppression.objects.filter(
            account=account,
            channel=channel.suppression_channel,
            address_hash__in=set(hashes.values()),
        ).values_list("address_hash", flat=True)
    )
    return {
        m.pk
        for m in messages
        if hashes[m.pk] in suppressed
        or (
            m.contact is not None
            and getattr(m.contact, channel.consent_field) not in SENDABLE_STATUSES
        )
    }


# The message fields the engine reads while sending (besides the channel's message_columns).
MESSAGE_COLUMNS = ("id", "contact", "attempts")


def _with_contacts(channel: Channel, messages):
    messages = messages.select_related("contact")
    Contact = channel.message_model._meta.get_field("contact").related_model  # noqa: N806
    read = {*(channel.contact_columns or ()), channel.consent_field}  # consent: withdrawn
    if channel.message_columns is not None:
        # Loading a message's every column for a batch of 500 cost more than rendering it.
        contact = [f"contact__{name}" for name in sorted(read)] if channel.contact_columns else []
        return messages.only(
            *MESSAGE_COLUMNS, channel.message_address_field, *channel.message_columns, *contact
        )
    if channel.contact_columns is None:
        return messages
    unread = [
        f"contact__{field.name}"
        for field in Contact._meta.concrete_fields
        if not field.primary_key and field.name not in read
    ]
    return messages.defer(*unread)


def _requeue(channel: Channel, ids: list[int], error: str) -> None:
    Message = channel.message_model  # noqa: N806
    Message.objects.filter(pk__in=ids, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED, error=error[:500]
    )


def _record(channel: Channel, pk: int, **changes) -> None:
    # Conditional on the lease: a message recovered and re-claimed elsewhere is not overwritten.
    Message = channel.message_model  # noqa: N806
    Message.objects.filter(pk=pk, status=Message.Status.SENDING).update(**changes)


def _deferred(channel: Channel, prepared, message) -> bool:
    """Put the message back in the queue until the channel's `not_before`, if it has one. The
    claim counted an attempt; a deferral is not one."""
    now = timezone.now()
    until = channel.not_before(prepared, message, now)
    if until is None or until <= now:
        return False
    Message = channel.message_model  # noqa: N806
    _record(
        channel,
        message.pk,
        status=Message.Status.QUEUED,
        next_attempt_at=until,
        attempts=F("attempts") - 1,
    )
    return True


def _record_refusal(channel: Channel, campaign, message, outcome) -> None:
    Message = channel.message_model  # noqa: N806
    detail = outcome.detail[:500]
    if isinstance(outcome, RetryLater) and message.attempts < MAX_ATTEMPTS:
        _record(
            channel,
            message.pk,
            status=Message.Status.QUEUED,
            next_attempt_at=timezone.now() + backoff(message.attempts),
            error=detail,
        )
        return
    if isinstance(outcome, PermanentFailure) and outcome.suppress:
        _record(channel, message.pk, status=Message.Status.BOUNCED, error=detail)
        suppression_add(
            account=campaign.account,
            channel=channel.suppression_channel,
            address=getattr(message, channel.message_address_field),
            reason=Suppression.Reason.HARD_BOUNCE,
        )
        _announce(message_bounced, channel, campaign, message, kind="hard", detail=detail)
        return
    _record(channel, message.pk, status=Message.Status.FAILED, error=detail)


def _announce(signal, channel: Channel, campaign, message, **extra) -> None:
    send_on_commit(
        signal,
        sender=channel.message_model,
        message_id=message.pk,
        campaign_id=campaign.pk,
        account_id=campaign.account_id,
        contact_id=message.contact_id,
        channel=channel.name,
        at=timezone.now(),
        **extra,
    )


def message_mark_bounced(channel: Channel, pk: int, reason: str) -> None:
    """A report after delivery (a DSN, an ESP webhook, a provider receipt) says the message never
    reached its recipient: it leaves the sent figures for the bounced ones. Whatever the message's
    state, the report is later news than the send."""
    Message = channel.message_model  # noqa: N806
    Message.objects.filter(pk=pk).update(status=Message.Status.BOUNCED, error=reason[:500])


def recover_expired_leases(channel: Channel, now=None) -> int:
    """Messages claimed by a worker that died: those the journal says were sent are folded as
    sent, the others go back to the queue. Returns how many messages changed."""
    now = now or timezone.now()
    Message = channel.message_model  # noqa: N806
    return _recover(channel, Message.objects.filter(claimed_at__lt=now - lease()))


def _recover(channel: Channel, messages) -> int:
    """Those of `messages` still "sending": sent if the journal says so, else queued again."""
    Message = channel.message_model  # noqa: N806
    expired = messages.filter(status=Message.Status.SENDING)
    folded = journal.fold(channel, expired.values_list("pk", flat=True))
    return folded + expired.update(status=Message.Status.QUEUED)


def campaigns_with_due_messages(channel: Channel, now=None) -> list[int]:
    """Running campaigns with queued messages whose time has come (retries after a backoff):
    the periodic task sends them, since no task is waiting for them."""
    now = now or timezone.now()
    Campaign, Message = channel.campaign_model, channel.message_model  # noqa: N806
    return list(
        Message.objects.filter(
            campaign__status=Campaign.Status.RUNNING,
            status=Message.Status.QUEUED,
            next_attempt_at__lte=now,
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    )


class SendError(ServiceError):
    pass


def message_send_one(
    *,
    campaign,
    idempotency_key: str,
    contact=None,
    address: str = "",
    content: dict | None = None,
):
    """Send one message of `campaign` to one contact now, through the same claim, delivery and
    record as a campaign's batches. A second call with the same key sends nothing more and
    returns the same message (a call after a lost connection tries the queued one again).

    Consent and suppression apply: a contact the channel may not write to gets a cancelled
    message. Without a contact, `address` is the recipient (a transactional number that is no
    contact: the channel's `addressed_without_contact` must say so of the message) and only the
    channel's suppressions apply. `content`: the message's own columns (names from its model,
    never from input), e.g. a single send's own text. While the campaign is not running (paused,
    sandboxed ones included) the message waits in the queue like any other of the campaign.
    Call it outside a transaction: the outcome is committed as soon as the provider answers, as
    for a batch.
    """
    channel = channel_of(campaign)
    Message = channel.message_model  # noqa: N806
    if contact is not None and contact.account_id != campaign.account_id:
        raise SendError({"contact": _("No such contact.")})
    if not idempotency_key:
        raise SendError({"idempotency_key": _("An idempotency key is required.")})
    if contact is not None:
        address = getattr(contact, channel.contact_address_field)
        sendable = reachable(channel, campaign.account).filter(pk=contact.pk).exists()
    elif address:
        sendable = not Suppression.objects.filter(
            account_id=campaign.account_id,
            channel=channel.suppression_channel,
            address_hash=address_hash(address),
        ).exists()
    else:
        raise SendError({"address": _("A contact or an address is required.")})
    message, created = Message.objects.get_or_create(
        campaign=campaign,
        idempotency_key=idempotency_key,
        defaults={
            **(content or {}),
            "contact": contact,
            channel.message_address_field: address,
            "status": Message.Status.QUEUED if sendable else Message.Status.CANCELLED,
            "error": "" if sendable else "no consent, or the address is suppressed",
        },
    )
    if not created and message.status == Message.Status.SENDING:
        # A call after the caller's worker died (a scenario step run again once its lease
        # expired): a claim older than the lease is that dead worker's, taken over now rather
        # than left to the periodic recovery — sent if the journal says so, else sent again.
        _recover(
            channel, Message.objects.filter(pk=message.pk, claimed_at__lt=timezone.now() - lease())
        )
        message.refresh_from_db()
    campaign = (
        channel.campaign_model.objects.select_related(*channel.campaign_related)
        .filter(pk=campaign.pk)
        .first()
    )
    running = campaign.status == channel.campaign_model.Status.RUNNING
    if running and message.status == Message.Status.QUEUED and _claim_one(channel, message.pk):
        try:
            _send_claimed(channel, campaign, [message.pk])
        finally:
            journal.close()  # a web thread sends one message, not batch after batch
    message.refresh_from_db()
    return message
