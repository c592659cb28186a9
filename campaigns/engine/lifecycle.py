"""A campaign's life: started (audience frozen), paused, resumed, cancelled, finished.

Sends are enqueued after commit through a dispatcher that the tasks module installs (from
CampaignsConfig.ready()), so the engine never imports its own Celery entry points.
"""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from accounts.domain_events import send_on_commit
from campaigns.engine.audience import freeze_audience
from campaigns.engine.channel import channel_of
from campaigns.signals import campaign_finished, campaign_started

PARALLEL_TASKS = 2

_dispatch: Callable[[str, int], None] | None = None


def set_dispatcher(dispatch: Callable[[str, int], None]) -> None:
    """`dispatch(channel_name, campaign_id)` enqueues one send task."""
    global _dispatch
    _dispatch = dispatch


def enqueue_sends(channel_name: str, campaign_id: int) -> None:
    for _slot in range(PARALLEL_TASKS):
        _dispatch(channel_name, campaign_id)


@transaction.atomic
def campaign_start(*, campaign) -> int:
    """Freeze the audience with the status change, in one transaction; send after commit."""
    channel = channel_of(campaign)
    Campaign = channel.campaign_model  # noqa: N806
    started = Campaign.objects.filter(
        pk=campaign.pk, status__in=[Campaign.Status.DRAFT, Campaign.Status.SCHEDULED]
    ).update(status=Campaign.Status.RUNNING, started_at=timezone.now())
    if not started:
        return 0
    count = freeze_audience(channel, campaign)
    transaction.on_commit(lambda: enqueue_sends(channel.name, campaign.pk))
    campaign.refresh_from_db()
    send_on_commit(campaign_started, sender=Campaign, campaign=campaign, audience=count)
    return count


def campaign_hold(*, campaign, reason: str) -> bool:
    """A scheduled campaign that may no longer start goes back to draft, the reason kept for
    the marketer (in `pause_reason`, shown on the campaign page) rather than sent as it is."""
    Campaign = channel_of(campaign).campaign_model  # noqa: N806
    return bool(
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED).update(
            status=Campaign.Status.DRAFT, pause_reason=reason[:300], updated_at=timezone.now()
        )
    )


def campaign_pause(*, campaign, reason: str = "") -> bool:
    """Stop at the next claim. `reason`: why the platform paused it by itself, shown to the user
    (empty when the user paused it)."""
    Campaign = channel_of(campaign).campaign_model  # noqa: N806
    return bool(
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
            status=Campaign.Status.PAUSED, pause_reason=reason[:300]
        )
    )


@transaction.atomic
def campaign_resume(*, campaign) -> bool:
    channel = channel_of(campaign)
    Campaign = channel.campaign_model  # noqa: N806
    resumed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.PAUSED).update(
        status=Campaign.Status.RUNNING, pause_reason=""
    )
    if resumed:
        transaction.on_commit(lambda: enqueue_sends(channel.name, campaign.pk))
    return bool(resumed)


@transaction.atomic
def campaign_cancel(*, campaign) -> bool:
    channel = channel_of(campaign)
    Campaign, Message = channel.campaign_model, channel.message_model  # noqa: N806
    cancelled = (
        Campaign.objects.filter(pk=campaign.pk)
        .exclude(status__in=[Campaign.Status.FINISHED, Campaign.Status.CANCELLED])
        .update(status=Campaign.Status.CANCELLED, finished_at=timezone.now())
    )
    Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).update(
        status=Message.Status.CANCELLED
    )
    return bool(cancelled)


def campaign_finish_if_done(campaign) -> bool:
    if campaign.standing:
        return False  # it holds single sends: an empty queue only waits for the next one
    channel = channel_of(campaign)
    Campaign, Message = channel.campaign_model, channel.message_model  # noqa: N806
    pending = Message.objects.filter(
        campaign=campaign, status__in=[Message.Status.QUEUED, Message.Status.SENDING]
    ).exists()
    if pending:
        return False
    finished = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
        status=Campaign.Status.FINISHED, finished_at=timezone.now()
    )
    if finished:
        send_on_commit(campaign_finished, sender=Campaign, campaign=campaign)
    return bool(finished)
