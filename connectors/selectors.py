"""Reads of connectors, always from the account."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from connectors.models import Platform, ShopCart, ShopConnection, ShopOrder, SyncRun

# Where a shop shows the visitor's cart, by platform (a platform missing here: the shop's home).
CART_PATHS = {
    Platform.MAGENTO: "/checkout/cart/",
    Platform.PRESTASHOP: "/index.php?controller=cart&action=show",
}
CART_CANDIDATES = 10  # newest active carts looked at per contact (one per shop, in practice)


def connections_of(account: Account) -> QuerySet[ShopConnection]:
    return ShopConnection.objects.filter(account=account)


def runs_of(connection: ShopConnection, limit: int = 20) -> list[SyncRun]:
    return list(
        SyncRun.objects.filter(account=connection.account_id, connection=connection)[:limit]
    )


def abandoned_cart(connection: ShopConnection, email: str) -> dict | None:
    """The contact's latest abandoned cart, for `{{ cart.items }}`, `{{ cart.total }}` and
    `{{ cart.url }}` in emails: None once an order followed it."""
    from connectors.consolidation import consolidated_fields, field_key

    values = consolidated_fields(connection, [email])[email]
    if values[field_key(connection, "last_abandoned_cart")] is None:
        return None
    cart = (
        ShopCart.objects.filter(connection=connection, email=email, is_active=True)
        .order_by("-updated_at")
        .first()
    )
    if cart is None:
        return None
    return {
        "items": cart.items,
        "total": str(cart.total),
        "currency": cart.currency,
        "url": cart_url(connection),
        "updated_at": cart.updated_at,
    }


def cart_url(connection: ShopConnection) -> str:
    """Where a customer finds their cart again (CART_PATHS: each platform's cart page)."""
    return connection.shop_url.rstrip("/") + CART_PATHS.get(connection.platform, "/")


def abandoned_carts_of(
    account: Account, *, connection: ShopConnection | None = None, email: str | None = None
) -> QuerySet[ShopCart]:
    """The carts abandoned now, by the rule consolidation applies (connectors.consolidation):
    active, with items, last changed longer ago than their connection's delay, and no order by
    the same address since. Newest first."""
    now = timezone.now()
    connections = connections_of(account)
    if connection is not None:
        connections = connections.filter(pk=connection.pk)
    # One condition per connection (an account has a few): each has its own delay.
    ripe = Q(pk__in=[])
    for pk, delay_hours in connections.values_list("pk", "cart_delay_hours"):
        ripe |= Q(connection_id=pk, updated_at__lte=now - timedelta(hours=delay_hours))
    carts = ShopCart.objects.filter(ripe, is_active=True).exclude(items=[])
    if email is not None:
        carts = carts.filter(email=email)
    later_order = ShopOrder.objects.filter(
        connection=OuterRef("connection"),
        email=OuterRef("email"),
        created_at__gte=OuterRef("updated_at"),
    )
    return (
        carts.filter(~Exists(later_order))
        .select_related("connection")
        .order_by("-updated_at", "-pk")
    )


def latest_abandoned_cart(account: Account, email: str, *, now=None) -> dict | None:
    """The contact's newest abandoned cart across the account's shops (the rule of
    consolidation: active, with items, older than the shop's delay, no order since), in the
    shape of abandoned_cart(); None when there is none. Two queries in the usual case."""
    now = now or timezone.now()
    carts = (
        ShopCart.objects.filter(connection__account=account, email=email, is_active=True)
        .select_related("connection")
        .order_by("-updated_at")[:CART_CANDIDATES]
    )
    for cart in carts:
        connection = cart.connection
        if not cart.items or cart.updated_at > now - timedelta(hours=connection.cart_delay_hours):
            continue
        ordered_since = ShopOrder.objects.filter(
            connection=connection, email=email, created_at__gte=cart.updated_at
        ).exists()
        if ordered_since:
            continue
        return {
            "items": cart.items,
            "total": str(cart.total),
            "currency": cart.currency,
            "url": cart_url(connection),
            "updated_at": cart.updated_at,
        }
    return None
