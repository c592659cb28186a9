"""Each connection's own django-celery-beat entry (connectors.schedule)."""

import json
from datetime import timedelta

from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from connectors.models import ShopConnection, SyncRun
from connectors.services import (
    connection_create,
    connection_delete,
    connection_pause,
    connection_resume,
    connection_update,
)
from connectors.sync import sync_run_execute
from connectors.tasks import start_scheduled_sync_task
from tests.connectors.conftest import SIMULATOR_CREDENTIALS, fast_client
from tests.factories import AccountFactory


def entry_of(connection):
    return PeriodicTask.objects.filter(name=f"shop-sync-{connection.pk}").first()


def test_a_new_connection_has_its_own_entry_at_its_first_import(db):
    first_import = timezone.now() + timedelta(hours=5)
    connection = connection_create(
        account=AccountFactory(), name="Boutique", shop_url="https://shop.example",
        credentials=SIMULATOR_CREDENTIALS, first_import_at=first_import,
    )  # fmt: skip
    entry = entry_of(connection)
    assert entry.task == "connectors.tasks.start_scheduled_sync_task"
    assert json.loads(entry.args) == [connection.pk]
    assert entry.one_off and entry.enabled
    assert entry.clocked.clocked_time == first_import
    assert "Boutique" in entry.description


def test_the_entry_follows_runs_interval_pause_resume_and_delete(db, connection):
    # a run ends: re-armed at the end plus the interval
    run = sync_run_execute(start_run(connection).pk, fast_client)
    assert run.status == SyncRun.Status.SUCCEEDED
    connection.refresh_from_db()
    assert entry_of(connection).clocked.clocked_time == connection.next_run_at
    assert connection.next_run_at > timezone.now() + timedelta(hours=23)
    # the owner shortens the interval: the entry moves with next_run_at
    connection = connection_update(connection=connection, sync_interval_hours=12)
    assert entry_of(connection).clocked.clocked_time == connection.next_run_at
    assert connection.next_run_at < timezone.now() + timedelta(hours=13)
    # one clock per entry: the old ones are not left behind
    assert ClockedSchedule.objects.count() == 1
    # paused: no entry; resumed: armed again
    connection_pause(connection=connection)
    assert entry_of(connection) is None
    connection_resume(connection=connection)
    assert entry_of(connection).clocked.clocked_time == connection.next_run_at
    # deleted: gone, clock included
    connection_delete(connection=connection)
    assert not PeriodicTask.objects.filter(name__startswith="shop-sync-").exists()
    assert not ClockedSchedule.objects.exists()


def start_run(connection):
    from connectors.services import sync_start

    return sync_start(connection=connection)


def test_the_entry_starts_a_due_run_and_nothing_else(db, connection, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # not due yet (moved since the entry was armed): nothing
    ShopConnection.objects.filter(pk=connection.pk).update(
        next_run_at=timezone.now() + timedelta(hours=1)
    )
    assert start_scheduled_sync_task(connection.pk) is False
    # due: one scheduled run
    ShopConnection.objects.filter(pk=connection.pk).update(next_run_at=timezone.now())
    assert start_scheduled_sync_task(connection.pk) is True
    run = SyncRun.objects.get(connection=connection)
    assert run.trigger == SyncRun.Trigger.SCHEDULE
    # a second firing while it runs: no second run
    assert start_scheduled_sync_task(connection.pk) is False
    # paused: nothing
    connection.refresh_from_db()
    connection_pause(connection=connection)
    assert start_scheduled_sync_task(connection.pk) is False
    assert SyncRun.objects.filter(connection=connection).count() == 1
