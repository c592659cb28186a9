"""The send pipeline (DESIGN §5): freeze the audience, claim batches, render, deliver, recover.

Every message's outcome is committed as soon as the server answers, outside any transaction,
so a worker killed at any moment re-sends at most the message in flight; a message whose lease
expires is put back in the queue.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns import merge_tags, rendering
from campaigns.dkim import sign, signing_key_for
from campaigns.models import EmailCampaign, Message
from campaigns.pacing import account_rate, wait_for_send_slot
from campaigns.verp import verp_address
from contacts.models import (
    SENDABLE_STATUSES,
    Channel,
    Contact,
    ListMembership,
    Suppression,
)
from contacts.segments.functions import Sha256Hex
from contacts.segments.selectors import segment_contacts
from contacts.services.consent import suppression_add

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 5
PARALLEL_TASKS = 2


def audience(campaign: EmailCampaign) -> QuerySet[Contact]:
    """Who may receive the campaign now."""
    return audience_for(
        campaign.account,
        lists=list(campaign.lists.all()),
        segments=list(campaign.segments.all()),
        excluded_lists=list(campaign.excluded_lists.all()),
        excluded_segments=list(campaign.excluded_segments.all()),
    )


def audience_for(account, *, lists, segments, excluded_lists, excluded_segments):
    """Lists ∪ segments − exclusions, then consent and suppression."""
    included = Q(pk__in=[])
    if lists:
        included |= Q(
            Exists(
                ListMembership.objects.filter(
                    contact=OuterRef("pk"),
                    contact_list__in=lists,
                    status=ListMembership.Status.SUBSCRIBED,
                )
            )
        )
    for segment in segments:
        included |= Q(pk__in=segment_contacts(segment).values("pk"))
    excluded = Q(pk__in=[])
    if excluded_lists:
        excluded |= Q(
            Exists(
                ListMembership.objects.filter(
                    contact=OuterRef("pk"), contact_list__in=excluded_lists
                )
            )
        )
    for segment in excluded_segments:
        excluded |= Q(pk__in=segment_contacts(segment).values("pk"))
    suppressed = Exists(
        Suppression.objects.filter(
            account=account, channel=Channel.EMAIL, address_hash=Sha256Hex(OuterRef("email"))
        )
    )
    return (
        Contact.objects.filter(account=account, email_status__in=SENDABLE_STATUSES)
        .exclude(email="")
        .filter(included)
        .exclude(excluded)
        .exclude(suppressed)
    )


def freeze_audience(campaign: EmailCampaign) -> int:
    """One queued message per address, in one INSERT … SELECT."""
    columns = audience(campaign).order_by().values(a_id=F("pk"), a_email=F("email"))
    sql, params = columns.query.sql_with_params()
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, contact_id, email, status, attempts, message_id, "  # noqa: S608
            f"error, created_at) SELECT %s, audience.a_id, audience.a_email, 'queued', 0, '', '', %s "
            f"FROM ({sql}) AS audience WHERE true "
            f"ON CONFLICT (campaign_id, email) DO NOTHING",
            [campaign.pk, timezone.now(), *params],
        )
        return cursor.rowcount


def _enqueue_sends(campaign_id: int) -> None:
    from campaigns.tasks import send_campaign_task

    for _slot in range(PARALLEL_TASKS):
        send_campaign_task.delay(campaign_id)


@transaction.atomic
def campaign_start(*, campaign: EmailCampaign) -> int:
    """Freeze the audience with the status change, in one transaction; send after commit."""
    started = EmailCampaign.objects.filter(
        pk=campaign.pk,
        status__in=[EmailCampaign.Status.DRAFT, EmailCampaign.Status.SCHEDULED],
    ).update(status=EmailCampaign.Status.RUNNING, started_at=timezone.now())
    if not started:
        return 0
    count = freeze_audience(campaign)
    transaction.on_commit(lambda: _enqueue_sends(campaign.pk))
    campaign.refresh_from_db()
    return count


def campaign_pause(*, campaign: EmailCampaign, reason: str = "") -> bool:
    return bool(
        EmailCampaign.objects.filter(pk=campaign.pk, status=EmailCampaign.Status.RUNNING).update(
            status=EmailCampaign.Status.PAUSED, pause_reason=reason[:300]
        )
    )


@transaction.atomic
def campaign_resume(*, campaign: EmailCampaign) -> bool:
    resumed = EmailCampaign.objects.filter(
        pk=campaign.pk, status=EmailCampaign.Status.PAUSED
    ).update(status=EmailCampaign.Status.RUNNING, pause_reason="")
    if resumed:
        transaction.on_commit(lambda: _enqueue_sends(campaign.pk))
    return bool(resumed)


@transaction.atomic
def campaign_cancel(*, campaign: EmailCampaign) -> bool:
    cancelled = (
        EmailCampaign.objects.filter(pk=campaign.pk)
        .exclude(status__in=[EmailCampaign.Status.FINISHED, EmailCampaign.Status.CANCELLED])
        .update(status=EmailCampaign.Status.CANCELLED, finished_at=timezone.now())
    )
    Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).update(
        status=Message.Status.CANCELLED
    )
    return bool(cancelled)


def claim_batch(campaign_id: int, size: int = BATCH_SIZE) -> list[int]:
    """Take up to `size` due messages for this worker. SKIP LOCKED lets workers share a
    campaign without waiting on each other; SQLite (one worker) takes its write lock instead."""
    now = timezone.now()
    table = Message._meta.db_table
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


def _record(pk: int, **changes) -> None:
    # Conditional on the lease: a message recovered and re-claimed elsewhere is not overwritten.
    Message.objects.filter(pk=pk, status=Message.Status.SENDING).update(**changes)


def _record_sent(pk: int, message_id: str) -> None:
    """The common outcome, once per message: plain SQL (the ORM's UPDATE compilation cost as
    much as the round trip). Conditional on the lease, like _record()."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET status = %s, sent_at = %s, message_id = %s, "  # noqa: S608
            "error = '' WHERE id = %s AND status = %s",
            [Message.Status.SENT, timezone.now(), message_id, pk, Message.Status.SENDING],
        )


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(60, 2**attempts))


def send_batch(campaign_id: int) -> int:
    """Claim one batch and deliver it over one connection. Returns how many were claimed."""
    campaign = (
        EmailCampaign.objects.select_related("account", "sender").filter(pk=campaign_id).first()
    )
    if campaign is None or campaign.status != EmailCampaign.Status.RUNNING:
        return 0
    ids = claim_batch(campaign_id)
    if not ids:
        campaign_finish_if_done(campaign)
        return 0
    prepared = rendering.prepare(campaign)
    dkim_key = (
        signing_key_for(campaign.account_id, campaign.sender.email) if campaign.sender else None
    )
    messages = Message.objects.filter(pk__in=ids).select_related("contact").order_by("pk")
    if campaign.sandbox:
        Message.objects.filter(pk__in=ids, status=Message.Status.SENDING).update(
            status=Message.Status.SANDBOXED, sent_at=timezone.now()
        )
        return len(ids)
    rate = account_rate(campaign.account)
    envelope_from = campaign.sender.email if campaign.sender else settings.DEFAULT_FROM_EMAIL
    with get_connection() as backend:
        # Plain SMTP gets bytes built directly (and DKIM-signed); other backends (ESPs through
        # django-anymail) get Django email objects.
        direct_smtp = isinstance(backend, SmtpBackend)
        for message in messages:
            wait_for_send_slot(campaign.account_id, rate)
            if message.contact is None:  # erased since the audience was frozen
                _record(message.pk, status=Message.Status.CANCELLED)
                continue
            values = merge_tags.contact_values(message.contact, campaign.account)
            try:
                if direct_smtp:
                    rendered = rendering.render_message(
                        prepared, message, values, preheader=campaign.preheader
                    )
                    payload = rendering.mime_bytes(prepared, message, rendered)
                    if dkim_key is not None:
                        payload = sign(payload, dkim_key)
                    # VERP: a bounce that quotes nothing of the message still names it.
                    return_path = verp_address(message.pk) or envelope_from
                    backend.connection.sendmail(return_path, [message.email], payload)
                    message_id = rendered.headers["Message-ID"]
                else:
                    email = rendering.build_email(
                        prepared, message, values, preheader=campaign.preheader
                    )
                    backend.send_messages([email])
                    # The ESP's own id when it gives one (its webhooks report that id).
                    status = getattr(email, "anymail_status", None)
                    message_id = (status and status.message_id) or email.extra_headers["Message-ID"]
            except smtplib.SMTPRecipientsRefused as error:
                code, reason = next(iter(error.recipients.values()))
                _outcome_refused(campaign, message, code, reason)
            except smtplib.SMTPResponseException as error:
                _outcome_refused(campaign, message, error.smtp_code, error.smtp_error)
            except (smtplib.SMTPException, OSError) as error:
                # Connection trouble: this message and the rest of the batch go back to the
                # queue at once; the task retries later.
                Message.objects.filter(
                    pk__in=[pk for pk in ids if pk >= message.pk], status=Message.Status.SENDING
                ).update(status=Message.Status.QUEUED, error=str(error)[:500])
                raise
            else:
                _record_sent(message.pk, message_id)
    return len(ids)


def _outcome_refused(campaign: EmailCampaign, message: Message, code: int, reason) -> None:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    if 400 <= code < 500 and message.attempts < MAX_ATTEMPTS:
        _record(
            message.pk,
            status=Message.Status.QUEUED,
            next_attempt_at=timezone.now() + _backoff(message.attempts),
            error=f"{code} {text}"[:500],
        )
        return
    if 500 <= code < 600:
        _record(message.pk, status=Message.Status.BOUNCED, error=f"{code} {text}"[:500])
        suppression_add(
            account=campaign.account,
            channel=Channel.EMAIL,
            address=message.email,
            reason=Suppression.Reason.HARD_BOUNCE,
        )
        return
    _record(message.pk, status=Message.Status.FAILED, error=f"{code} {text}"[:500])


def campaign_finish_if_done(campaign: EmailCampaign) -> bool:
    pending = Message.objects.filter(
        campaign=campaign, status__in=[Message.Status.QUEUED, Message.Status.SENDING]
    ).exists()
    if pending:
        return False
    return bool(
        EmailCampaign.objects.filter(pk=campaign.pk, status=EmailCampaign.Status.RUNNING).update(
            status=EmailCampaign.Status.FINISHED, finished_at=timezone.now()
        )
    )


def lease() -> timedelta:
    return timedelta(seconds=settings.SEND_LEASE_SECONDS)


def recover_expired_leases(now=None) -> int:
    """Messages claimed by a worker that died: back to the queue."""
    now = now or timezone.now()
    expired = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=now - lease())
    return expired.update(status=Message.Status.QUEUED)
