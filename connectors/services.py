"""Writes on shop connections: create, change, test, run, pause, stop."""

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.models import Account
from connectors.credentials import ShopCredentials, encrypt_credentials, encrypt_secret
from connectors.models import MIN_INTERVAL_HOURS, ShopConnection, SyncRun
from connectors.platforms import shop_client_for
from connectors.shop_client import ConnectionCheck, ShopError


class ConnectionNameTaken(ConflictError):
    code = "connection_name_taken"


class RunAlreadyActive(ConflictError):
    code = "sync_already_running"


class RunNotActive(ConflictError):
    code = "sync_not_running"


def _no_dispatcher(run_id: int) -> None:
    raise RuntimeError("connectors: no run dispatcher (ConnectorsConfig.ready() installs it)")


# How a queued run reaches a worker: ConnectorsConfig.ready() installs the `sync` queue's task.
# Services sit below the Celery entry points (tasks import services), so they do not import them.
run_dispatcher = _no_dispatcher


def _check_options(*, sync_interval_hours: int, cart_delay_hours: int) -> None:
    errors = {}
    if sync_interval_hours < MIN_INTERVAL_HOURS:
        errors["sync_interval_hours"] = _("At least %(hours)d hours.") % {
            "hours": MIN_INTERVAL_HOURS
        }
    if cart_delay_hours < 1:
        errors["cart_delay_hours"] = _("At least 1 hour.")
    if errors:
        raise ServiceError(errors)


def connection_create(
    *,
    account: Account,
    name: str,
    shop_url: str,
    credentials: ShopCredentials,
    platform: str = "magento",
    auth_method: str = ShopConnection.AuthMethod.OAUTH1,
    **options,
) -> ShopConnection:
    _check_options(
        sync_interval_hours=options.get("sync_interval_hours", 24),
        cart_delay_hours=options.get("cart_delay_hours", 3),
    )
    if account.contact_key != "email":
        # Shops identify customers by email; consolidation matches contacts on it.
        raise ServiceError(
            _("Shop connectors need an account whose contacts are identified by email address.")
        )
    if options.get("newsletter_list") and options["newsletter_list"].account_id != account.pk:
        raise ServiceError({"newsletter_list": _("Unknown list.")})
    connection = ShopConnection(
        account=account,
        name=name.strip(),
        platform=platform,
        shop_url=shop_url.rstrip("/"),
        auth_method=auth_method,
        credentials_encrypted=encrypt_credentials(credentials),
        webhook_secret_encrypted=encrypt_secret(secrets.token_urlsafe(32)),
        next_run_at=options.pop("first_import_at", None) or timezone.now(),
        **options,
    )
    connection.first_import_at = connection.next_run_at
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as error:
        raise ConnectionNameTaken(
            {"name": _("A connection with this name already exists.")}
        ) from error
    return connection


def connection_update(
    *, connection: ShopConnection, credentials: ShopCredentials | None = None, **changes
) -> ShopConnection:
    """Change settings; credentials only when new ones are given (the form never shows them).

    A new interval moves the next scheduled run at once: it counts from the end of the last
    scheduled-kind run (or from now), so shortening 24 h to 12 h does not wait for the old date."""
    _check_options(
        sync_interval_hours=changes.get("sync_interval_hours", connection.sync_interval_hours),
        cart_delay_hours=changes.get("cart_delay_hours", connection.cart_delay_hours),
    )
    if changes.get("newsletter_list") and changes["newsletter_list"].account_id != (
        connection.account_id
    ):
        raise ServiceError({"newsletter_list": _("Unknown list.")})
    interval_changed = (
        "sync_interval_hours" in changes
        and changes["sync_interval_hours"] != connection.sync_interval_hours
    )
    for name, value in changes.items():
        setattr(connection, name, value)
    if interval_changed and connection.watermarks:
        connection.next_run_at = _next_run_after_last(connection)
    if credentials is not None:
        connection.credentials_encrypted = encrypt_credentials(credentials)
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as error:
        raise ConnectionNameTaken(
            {"name": _("A connection with this name already exists.")}
        ) from error
    return connection


def _next_run_after_last(connection: ShopConnection):
    last = (
        SyncRun.objects.filter(
            connection=connection,
            status=SyncRun.Status.SUCCEEDED,
            kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.DELTA],
        )
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return (last or timezone.now()) + timedelta(hours=connection.sync_interval_hours)


def connection_delete(*, connection: ShopConnection) -> None:
    """Delete the connection, its run log and its mirror of the shop. The contacts, their
    consolidated fields and the ready-made segments stay: they are the account's data now."""
    with transaction.atomic():
        locked = ShopConnection.objects.select_for_update().get(pk=connection.pk)
        if SyncRun.objects.filter(
            connection=locked, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
        ).exists():
            raise RunAlreadyActive(
                {"run": _("Stop the connection's run before deleting the connection.")}
            )
        locked.delete()


def connection_test(*, connection: ShopConnection) -> ConnectionCheck:
    """Call the shop; raises a ShopError whose message says precisely what is wrong."""
    client = shop_client_for(connection, max_attempts=2, timeout=15)
    check = client.check()
    # Kept for the settings, which offer the views/shops found as boxes to tick.
    connection.discovered_views = [
        {"id": view.id, "code": view.code, "name": view.name} for view in check.store_views
    ]
    connection.save(update_fields=["discovered_views"])
    return check


def connection_pause(*, connection: ShopConnection) -> ShopConnection:
    connection.status = ShopConnection.Status.PAUSED
    connection.save(update_fields=["status"])
    return connection


def connection_resume(*, connection: ShopConnection) -> ShopConnection:
    connection.status = ShopConnection.Status.ACTIVE
    connection.save(update_fields=["status"])
    return connection


def sync_start(
    *, connection: ShopConnection, trigger: str = SyncRun.Trigger.MANUAL, kind: str | None = None
) -> SyncRun:
    """Queue a run: a full import first, then deltas. Enqueued once the transaction commits."""
    with transaction.atomic():
        locked = ShopConnection.objects.select_for_update().get(pk=connection.pk)
        active = SyncRun.objects.filter(
            connection=locked, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
        )
        if kind != SyncRun.Kind.CARTS:
            active = active.exclude(kind=SyncRun.Kind.CARTS)
        if active.exists():
            raise RunAlreadyActive(
                {"run": _("A run of this connection is already queued or running.")}
            )
        if kind is None:
            kind = SyncRun.Kind.DELTA if locked.watermarks else SyncRun.Kind.FULL
        run = SyncRun.objects.create(
            account_id=locked.account_id, connection=locked, kind=kind, trigger=trigger
        )
        transaction.on_commit(lambda: run_dispatcher(run.pk))
    return run


def sync_stop(*, run: SyncRun) -> SyncRun:
    """Stop a queued or running run: it ends at its next page, what it wrote stays."""
    if not run.is_active:
        raise RunNotActive({"run": _("This run has already ended.")})
    SyncRun.objects.filter(
        pk=run.pk, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    ).update(status=SyncRun.Status.CANCELLED, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def shop_error_message(error: ShopError) -> str:
    return error.message
