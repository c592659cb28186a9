"""Each shop connection's own entry in django-celery-beat's schedule.

A connection's next run is `ShopConnection.next_run_at` (the end of the last run plus the owner's
interval: runs never overlap). It is mirrored as a one-off clocked entry named
`shop-sync-<id>`, so the beat starts the run at that minute and an operator sees (and may move)
every shop's next sync in the admin's "Periodic tasks". The entry is re-armed whenever
next_run_at moves (a run ends, the interval changes, a connection is created) and removed when
the connection is paused or deleted. The beat's 5-minute `start-due-shop-syncs` tick stays as
the catch-up: a run that failed (next_run_at stays in the past, so it is retried) or an entry
that fired while no worker listened."""

import json

from django.db import transaction
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from connectors.models import ShopConnection

TASK = "connectors.tasks.start_scheduled_sync_task"


def entry_name(connection_id: int) -> str:
    return f"shop-sync-{connection_id}"


def connection_schedule_sync(connection: ShopConnection) -> None:
    """Make the connection's beat entry say what its next_run_at and status say."""
    if connection.status != ShopConnection.Status.ACTIVE or connection.next_run_at is None:
        connection_schedule_remove(connection.pk)
        return
    with transaction.atomic():
        entry = PeriodicTask.objects.filter(name=entry_name(connection.pk)).first()
        armed = entry is not None and entry.clocked_id and entry.enabled
        if armed and entry.clocked.clocked_time == connection.next_run_at:
            return  # already armed for that minute: no write, no schedule reload
        clocked = ClockedSchedule.objects.create(clocked_time=connection.next_run_at)
        PeriodicTask.objects.update_or_create(
            name=entry_name(connection.pk),
            defaults={
                "task": TASK,
                "clocked": clocked,
                "interval": None,
                "crontab": None,
                "solar": None,
                "one_off": True,
                "enabled": True,
                "args": json.dumps([connection.pk]),
                "description": f"{connection.name} ({connection.get_platform_display()})",
            },
        )
        _forget_unused_clocks()


def connection_schedule_remove(connection_id: int) -> None:
    with transaction.atomic():
        PeriodicTask.objects.filter(name=entry_name(connection_id)).delete()
        _forget_unused_clocks()


def _forget_unused_clocks() -> None:
    # Each re-arm makes a new clock; the ones no entry points to any more are only clutter.
    ClockedSchedule.objects.filter(periodictask__isnull=True).delete()
