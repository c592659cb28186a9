"""Celery entry points of the `sync` queue (routed by sendethic.settings CELERY_TASK_ROUTES)."""

from celery import shared_task
from django.utils import timezone

from connectors.models import ShopConnection, SyncRun


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300
)
def sync_connection_task(run_id: int) -> None:
    """Run or resume one sync run; a redelivery after a lost worker resumes its checkpoint."""
    from connectors.platforms import shop_client_for
    from connectors.sync import sync_run_execute

    sync_run_execute(run_id, shop_client_for)


@shared_task
def start_due_syncs_task() -> int:
    """Queue a run for each active connection whose next run is due (beat, every 5 minutes):
    the catch-up behind each connection's own entry (connectors.schedule) — a failed run is
    retried here, and a run whose entry fired while no worker listened starts here."""
    from connectors.services import RunAlreadyActive, sync_start

    started = 0
    due = ShopConnection.objects.filter(
        status=ShopConnection.Status.ACTIVE, next_run_at__lte=timezone.now()
    ).order_by("pk")
    for connection in due:
        try:
            sync_start(connection=connection, trigger=SyncRun.Trigger.SCHEDULE)
            started += 1
        except RunAlreadyActive:
            continue
    return started


@shared_task
def start_scheduled_sync_task(connection_id: int) -> bool:
    """The connection's own beat entry fired (connectors.schedule): start its run if it is
    still active and due — the owner may have paused it or moved it since the entry was armed."""
    from connectors.services import RunAlreadyActive, sync_start

    connection = ShopConnection.objects.filter(
        pk=connection_id, status=ShopConnection.Status.ACTIVE, next_run_at__lte=timezone.now()
    ).first()
    if connection is None:
        return False
    try:
        sync_start(connection=connection, trigger=SyncRun.Trigger.SCHEDULE)
    except RunAlreadyActive:
        return False
    return True


@shared_task(autoretry_for=(Exception,), retry_backoff=60, max_retries=8, acks_late=True)
def write_back_opt_out_task(account_id: int, contact_id: int) -> int:
    """Unsubscribe the customer in the shop; retried with backoff while the shop is down."""
    from connectors.platforms import shop_client_for
    from connectors.write_back import opt_out_write_back

    return opt_out_write_back(
        account_id=account_id, contact_id=contact_id, client_factory=shop_client_for
    )


CART_POLL_MINUTES = 15


@shared_task
def poll_abandoned_carts_task() -> int:
    """Between full syncs, a cheap carts-only delta (beat, every 15 minutes), so that a 3-hour
    delay means about 3 hours. Only connections whose first import is done and that are idle."""
    from datetime import timedelta

    from connectors.services import RunAlreadyActive, sync_start

    started = 0
    recent = timezone.now() - timedelta(minutes=CART_POLL_MINUTES - 1)
    connections = ShopConnection.objects.filter(
        status=ShopConnection.Status.ACTIVE,
        data_scope=ShopConnection.DataScope.COMPLETE,
        running_run__isnull=True,
    ).exclude(watermarks={})
    for connection in connections.order_by("pk"):
        if connection.runs.filter(kind=SyncRun.Kind.CARTS, created_at__gte=recent).exists():
            continue
        try:
            sync_start(
                connection=connection, trigger=SyncRun.Trigger.SCHEDULE, kind=SyncRun.Kind.CARTS
            )
            started += 1
        except RunAlreadyActive:
            continue
    return started
