"""Celery entry points of the send pipeline: thin, idempotent, ids only."""

import smtplib

from celery import shared_task
from django.utils import timezone

from campaigns import pipeline
from campaigns.models import EmailCampaign


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=20,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 60,
)
def send_campaign_task(self, campaign_id: int) -> None:
    """Send batches until the campaign has nothing due, is paused or cancelled."""
    try:
        while pipeline.send_batch(campaign_id):
            pass
    except (smtplib.SMTPException, OSError) as error:
        raise self.retry(exc=error, countdown=min(300, 10 * 2**self.request.retries)) from error


@shared_task
def recover_expired_leases_task() -> None:
    if pipeline.recover_expired_leases():
        for campaign_id in EmailCampaign.objects.filter(
            status=EmailCampaign.Status.RUNNING
        ).values_list("pk", flat=True):
            send_campaign_task.delay(campaign_id)


@shared_task
def start_due_campaigns_task() -> None:
    """Scheduled campaigns start on the beat tick (no ETA task outlives the broker's timeout)."""
    due = EmailCampaign.objects.filter(
        status=EmailCampaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    for campaign in EmailCampaign.objects.filter(pk__in=list(due)):
        pipeline.campaign_start(campaign=campaign)
