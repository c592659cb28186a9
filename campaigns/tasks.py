"""Celery entry points of the send engine: thin, idempotent, ids only.

The task names are those of the beat schedule (settings.CELERY_BEAT_SCHEDULE, stored by
django-celery-beat); `channel` defaults to email so tasks queued before channels existed run.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from campaigns.backends import outbox_prune
from campaigns.engine import journal, lifecycle, sending
from campaigns.engine.channel import DeliveryInterrupted, channel_named, channels


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=20,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 60,
)
def send_campaign_task(self, campaign_id: int, channel: str = "email") -> None:
    """Send batches until the campaign has nothing due, is paused or cancelled."""
    try:
        while sending.send_batch(channel_named(channel), campaign_id, fold_in_background=True):
            pass
    except DeliveryInterrupted as error:
        # The provider went away; the batch is back in the queue.
        raise self.retry(exc=error, countdown=min(300, 10 * 2**self.request.retries)) from error
    finally:
        journal.close()


def dispatch_send(channel: str, campaign_id: int) -> None:
    send_campaign_task.delay(campaign_id, channel)


@shared_task
def recover_expired_leases_task() -> None:
    """Requeue what dead workers held, and send what waited for its retry time."""
    for channel in channels():
        campaign_ids = set(sending.campaigns_with_due_messages(channel))
        if sending.recover_expired_leases(channel):
            campaign_ids.update(
                channel.campaign_model.objects.filter(
                    status=channel.campaign_model.Status.RUNNING
                ).values_list("pk", flat=True)
            )
        for campaign_id in sorted(campaign_ids):
            send_campaign_task.delay(campaign_id, channel.name)


@shared_task
def start_due_campaigns_task() -> None:
    """Scheduled campaigns start on the beat tick (no ETA task outlives the broker's timeout)."""
    for channel in channels():
        Campaign = channel.campaign_model  # noqa: N806
        due = Campaign.objects.filter(
            status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
        ).values_list("pk", flat=True)
        for campaign in Campaign.objects.filter(pk__in=list(due)):
            refusal = channel.refusal_to_start(campaign)
            if refusal:
                lifecycle.campaign_hold(campaign=campaign, reason=refusal)
            else:
                lifecycle.campaign_start(campaign=campaign)


@shared_task
def prune_outbox_task() -> int:
    """Daily: the local outbox keeps settings.OUTBOX_RETENTION_DAYS of mail."""
    return outbox_prune(older_than=timedelta(days=settings.OUTBOX_RETENTION_DAYS))
