from datetime import timedelta

from django.utils import timezone

from campaigns.models import OutboxMessage
from campaigns.tasks import prune_outbox_task


def _captured(account, *, days_ago: float) -> OutboxMessage:
    message = OutboxMessage.objects.create(account=account, recipients="a@example.com")
    # created_at is auto_now_add: set the age afterwards, as time would have.
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return message


def test_the_outbox_keeps_the_retention_period_and_drops_older_mail(account, settings):
    settings.OUTBOX_RETENTION_DAYS = 30
    recent = _captured(account, days_ago=29.9)
    old = [_captured(account, days_ago=31), _captured(None, days_ago=400)]

    assert prune_outbox_task() == len(old)

    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert prune_outbox_task() == 0  # idempotent: nothing left to prune


def test_the_prune_runs_daily_on_the_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-outbox"]
    assert entry["task"] == "campaigns.tasks.prune_outbox_task"
    assert entry["schedule"] == 24 * 3600
