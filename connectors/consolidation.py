"""Shop data consolidated into typed contact fields ([MB] for Magento, [PS] for PrestaShop).

Choices, said once:
- Revenue counts every order except cancelled ones (state `canceled`) and fully refunded ones
  (state `closed`), net of partial refunds (`base_total_refunded`), in the shop's base currency
  (the account's currency for a French shop; no conversion is made). Total orders, first/last
  order date, last order amount and average days between orders count the same orders.
- Magento has no delivery date: the last delivery is the day the last `complete` order was
  last updated (when it was shipped and invoiced, in practice).
- Magento's REST API has no last-login date: "last activity" is the latest of the customer
  record's and the customer's carts' update days.
- A cart is abandoned when active with items, older than the connection's delay, and newer
  than the customer's last order (a later order clears it).
- Dates are days in the account's time zone.
- PrestaShop (connectors.prestashop.client names its states): "cancelled", "refunded" and
  "payment_error" orders are not revenue; the last delivery is the latest `delivered` order's
  delivery date. Its webservice has no login date either: "last customer login" is the day the
  customer record was last updated. [PS] has the seed's 21 fields: 14 typed fields below plus
  first/last name, salutation, email, phone, zip code and birth date on the contact itself.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.errors import ConflictError
from accounts.lookups import among
from connectors.models import Platform, ShopCart, ShopConnection, ShopOrder
from contacts.models import FieldOrigin, FieldType
from contacts.selectors import contact_fields_of
from contacts.services.fields import field_create
from contacts.services.segments import segment_create

NOT_REVENUE_STATES = {"canceled", "closed", "cancelled", "refunded", "payment_error"}
DELIVERED_STATES = {"complete", "delivered"}
CENT = Decimal("0.01")
# The fields consolidation_of computes from orders and carts (None clears a stale value).
ORDER_AND_CART_SUFFIXES = (
    "revenue", "total_orders", "first_order", "last_order", "last_order_amount",
    "avg_days_between_orders", "last_delivery", "last_abandoned_cart", "cart_total",
)  # fmt: skip


@dataclass(frozen=True)
class ShopField:
    suffix: str
    label: str
    type: str


SHOP_FIELDS = [  # Magento's [MB] fields
    ShopField("customer_id", _("Customer id"), FieldType.NUMBER),
    ShopField("signup_date", _("Signup date"), FieldType.DATE),
    ShopField("last_activity", _("Last activity (account or cart)"), FieldType.DATE),
    ShopField("store_view", _("Store view"), FieldType.TEXT),
    ShopField("newsletter", _("Newsletter subscriber"), FieldType.BOOLEAN),
    ShopField("revenue", _("Revenue"), FieldType.DECIMAL),
    ShopField("total_orders", _("Total orders"), FieldType.NUMBER),
    ShopField("first_order", _("First order date"), FieldType.DATE),
    ShopField("last_order", _("Last order date"), FieldType.DATE),
    ShopField("last_order_amount", _("Last order amount"), FieldType.DECIMAL),
    ShopField("avg_days_between_orders", _("Average days between orders"), FieldType.DECIMAL),
    ShopField("last_delivery", _("Last delivery date"), FieldType.DATE),
    ShopField("last_abandoned_cart", _("Last abandoned cart date"), FieldType.DATE),
    ShopField("cart_total", _("Abandoned cart total"), FieldType.DECIMAL),
]
PRESTASHOP_FIELDS = [
    ShopField("customer_id", _("Customer id"), FieldType.NUMBER),
    ShopField("group_ids", _("Customer group ids"), FieldType.TEXT),
    ShopField("shop_id", _("Shop id"), FieldType.NUMBER),
    ShopField("signup_date", _("Signup date"), FieldType.DATE),
    ShopField("last_login", _("Last customer login"), FieldType.DATE),
    ShopField("newsletter", _("Newsletter subscriber"), FieldType.BOOLEAN),
    ShopField("revenue", _("Revenue"), FieldType.DECIMAL),
    ShopField("total_orders", _("Total orders"), FieldType.NUMBER),
    ShopField("first_order", _("First order date"), FieldType.DATE),
    ShopField("last_order", _("Last order date"), FieldType.DATE),
    ShopField("last_order_amount", _("Last order amount"), FieldType.DECIMAL),
    ShopField("avg_days_between_orders", _("Average days between orders"), FieldType.DECIMAL),
    ShopField("last_delivery", _("Last delivery date"), FieldType.DATE),
    ShopField("last_abandoned_cart", _("Last abandoned cart date"), FieldType.DATE),
]


def shop_fields_for(connection: ShopConnection) -> list[ShopField]:
    return PRESTASHOP_FIELDS if connection.platform == Platform.PRESTASHOP else SHOP_FIELDS


def segment_prefix(connection: ShopConnection) -> str:
    return "[MB]" if connection.platform == Platform.MAGENTO else "[PS]"


def field_key(connection: ShopConnection, suffix: str) -> str:
    return f"{connection.field_prefix}_{suffix}"


def shop_fields_ensure(connection: ShopConnection) -> None:
    """Create the shop's typed fields that the account lacks; never touches existing ones."""
    account = connection.account
    existing = set(contact_fields_of(account).values_list("key", flat=True))
    origin = (
        FieldOrigin.MAGENTO if connection.platform == Platform.MAGENTO else (FieldOrigin.PRESTASHOP)
    )
    with translation.override(account.language):
        for spec in shop_fields_for(connection):
            key = field_key(connection, spec.suffix)
            if key in existing:
                continue
            try:
                field_create(
                    account=account, key=key, label=str(spec.label), type=spec.type, origin=origin
                )
            except ConflictError:
                continue  # created meanwhile by another run: the same field


def ready_made_segments(connection: ShopConnection) -> list[tuple[str, dict]]:
    def f(suffix):
        return f"fields.{field_key(connection, suffix)}"

    is_customer = {"field": f("customer_id"), "op": "is_not_empty"}
    # Magento has no login date: its activity is the account's or a cart's latest change.
    activity = "last_login" if connection.platform == Platform.PRESTASHOP else "last_activity"
    no_order = {
        "any": [
            {"field": f("total_orders"), "op": "is_empty"},
            {"field": f("total_orders"), "op": "eq", "value": 0},
        ]
    }
    return [
        (_("Newsletter subscribers"), {"all": [{"field": f("newsletter"), "op": "is_true"}]}),
        (_("Customers"), {"all": [is_customer]}),
        (_("Customers with revenue"), {"all": [{"field": f("revenue"), "op": "gt", "value": 0}]}),
        (
            _("Customers without revenue"),
            {
                "all": [
                    is_customer,
                    {
                        "any": [
                            {"field": f("revenue"), "op": "is_empty"},
                            {"field": f("revenue"), "op": "lte", "value": 0},
                        ]
                    },
                ]
            },
        ),
        (
            _("First purchase (exactly one order)"),
            {"all": [{"field": f("total_orders"), "op": "eq", "value": 1}]},
        ),
        (
            _("Repeat buyers (2 orders or more)"),
            {"all": [{"field": f("total_orders"), "op": "gte", "value": 2}]},
        ),
        (
            _("Abandoned cart"),
            {"all": [{"field": f("last_abandoned_cart"), "op": "is_not_empty"}]},
        ),
        (
            _("Motivated (active in the last 30 days, no order)"),
            {
                "all": [
                    {"field": f(activity), "op": "within_last_days", "value": 30},
                    no_order,
                ]
            },
        ),
        (
            _("Delivered in the last 7 days"),
            {"all": [{"field": f("last_delivery"), "op": "within_last_days", "value": 7}]},
        ),
        (
            _("No order for 90 days"),
            {"all": [{"field": f("last_order"), "op": "more_than_days_ago", "value": 90}]},
        ),
        (
            _("Birthday this month"),
            {"all": [{"field": "birth_date", "op": "anniversary_this_month"}]},
        ),
    ]


def shop_segments_ensure(connection: ShopConnection) -> int:
    """Create the ready-made segments once per connection; afterwards they are the account's
    to edit, rename or delete (a deleted one is not recreated). Returns how many were made."""
    if connection.segments_created_at is not None:
        return 0
    account = connection.account
    created = 0
    prefix = segment_prefix(connection)
    with translation.override(account.language):
        for name, rules in ready_made_segments(connection):
            try:
                segment_create(account=account, name=f"{prefix} {name}", rules=rules)
                created += 1
            except ConflictError:
                continue  # the account already has a segment of this name
    ShopConnection.objects.filter(pk=connection.pk).update(segments_created_at=timezone.now())
    connection.segments_created_at = timezone.now()
    return created


def _day(moment: datetime, tz) -> str:
    return moment.astimezone(tz).date().isoformat()


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def consolidated_fields(connection: ShopConnection, emails: list[str], *, now=None) -> dict:
    """{email: {field key: value or None}} from the mirror, for the given normalised emails.

    None clears a value (e.g. the abandoned cart once an order follows it)."""
    return consolidation_of(connection, emails, now=now)[0]


def _order_totals(connection: ShopConnection, emails: list[str]) -> dict[str, tuple]:
    """Per address that has orders, its orders summed up by the database (one row an address;
    reading every order into Python took a third of a full import's contact pass):
    (counted orders, revenue, first and last counted order, last counted order's
    amount, latest order of any state, last delivery)."""
    counted = ~Q(state__in=NOT_REVENUE_STATES)
    last_counted = (
        ShopOrder.objects.filter(connection=connection, email=OuterRef("email"))
        .exclude(state__in=NOT_REVENUE_STATES)
        .order_by("-created_at", "-external_id")
        .values("grand_total")[:1]
    )
    money = DecimalField(max_digits=18, decimal_places=4)
    rows = (
        ShopOrder.objects.filter(among("email", emails), connection=connection)
        .values("email")
        .annotate(
            counted=Count("pk", filter=counted),
            revenue=Sum(F("grand_total") - F("total_refunded"), filter=counted, output_field=money),
            first=Min("created_at", filter=counted),
            last=Max("created_at", filter=counted),
            last_amount=Subquery(last_counted, output_field=money),
            latest=Max("created_at"),
            delivered=Max("updated_at", filter=Q(state__in=DELIVERED_STATES)),
        )
        .order_by()
        .values_list(
            "email",
            "counted",
            "revenue",
            "first",
            "last",
            "last_amount",
            "latest",
            "delivered",
        )
    )
    return {row[0]: row[1:] for row in rows}


def consolidation_of(
    connection: ShopConnection, emails: list[str], *, now=None
) -> tuple[dict, set[str]]:
    """consolidated_fields, and the addresses that have orders in the mirror (the buyers),
    from the same read of the orders."""
    now = now or timezone.now()
    tz = zoneinfo.ZoneInfo(connection.account.timezone)
    totals = _order_totals(connection, emails)
    carts: dict[str, list] = {}
    for row in ShopCart.objects.filter(
        among("email", emails), connection=connection, is_active=True
    ).values_list("email", "updated_at", "total", "items"):
        carts.setdefault(row[0], []).append(row)
    ripe_before = now - timedelta(hours=connection.cart_delay_hours)
    keys = {spec.suffix: field_key(connection, spec.suffix) for spec in shop_fields_for(connection)}
    result = {}
    for email in emails:
        values = dict.fromkeys(ORDER_AND_CART_SUFFIXES)
        latest_order = None
        if email in totals:
            count, revenue, first, last, last_amount, latest_order, delivered = totals[email]
            values["total_orders"] = count
            values["revenue"] = _money(max(revenue or Decimal(0), Decimal(0)))
            if count:
                values["first_order"] = _day(first, tz)
                values["last_order"] = _day(last, tz)
                values["last_order_amount"] = _money(last_amount)
                if count > 1:
                    span_days = (last - first).total_seconds() / 86400
                    values["avg_days_between_orders"] = round(span_days / (count - 1), 1)
            if delivered:
                values["last_delivery"] = _day(delivered, tz)
        abandoned = [
            cart
            for cart in carts.get(email, ())
            if cart[3]
            and cart[1] <= ripe_before
            and (latest_order is None or cart[1] > latest_order)
        ]
        if abandoned:
            cart = max(abandoned, key=lambda c: c[1])
            values["last_abandoned_cart"] = _day(cart[1], tz)
            values["cart_total"] = _money(cart[2])
        result[email] = {keys[suffix]: value for suffix, value in values.items() if suffix in keys}
    return result, set(totals)
