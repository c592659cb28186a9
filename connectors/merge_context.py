"""The `{{ cart.* }}` merge tags: connectors fill campaigns' merge-context registry.

Registered by ConnectorsConfig.ready() (campaigns never import connectors). Platform-agnostic:
the provider reads the mirror tables through connectors.selectors, whatever shop filled them.
"""

import zoneinfo
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from campaigns import merge_context
from connectors import selectors

CART_FIELDS = {
    "url": "",  # the restore link; empty without a cart (a button can say `| default:"…"`)
    "total": "0.00",
    "currency": "",
    "item_count": "0",
    "updated_at": "",
}
ITEM_FIELDS = ("name", "sku", "quantity", "price", "image_url", "url")
CART_LABELS = {
    "url": _("Cart: restore link"),
    "total": _("Cart: total"),
    "currency": _("Cart: currency"),
    "item_count": _("Cart: number of items"),
    "updated_at": _("Cart: last change"),
    "items": _("Cart: items (one line)"),
}


def _amount(value) -> str:
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return ""


def _quantity(value) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    return str(number.quantize(Decimal(1))) if number == number.to_integral() else str(number)


def cart_for_contact(account, contact) -> dict | None:
    """The contact's latest abandoned cart across the account's shops, as merge values."""
    if not contact.email:
        return None
    cart = selectors.latest_abandoned_cart(account, contact.email)
    if cart is None:
        return None
    items = [
        {
            "name": str(line.get("name") or ""),
            "sku": str(line.get("sku") or ""),
            "quantity": _quantity(line.get("qty", line.get("quantity", ""))),
            "price": _amount(line.get("price", "")),
            "image_url": str(line.get("image_url") or ""),
            "url": str(line.get("url") or ""),
        }
        for line in cart["items"]
        if isinstance(line, dict)
    ]
    count = sum((Decimal(item["quantity"] or 0) for item in items), Decimal(0))
    return {
        "url": cart["url"],
        "total": _amount(cart["total"]),
        "currency": cart["currency"],
        "item_count": _quantity(count),
        # In the account's time zone, as the shop owner's other dates.
        "updated_at": cart["updated_at"]
        .astimezone(zoneinfo.ZoneInfo(account.timezone))
        .strftime("%d/%m/%Y %H:%M"),
        "items": items,
        "items_summary": ", ".join(
            f"{item['quantity']} × {item['name']}" for item in items if item["name"]
        ),
    }


def register() -> None:
    merge_context.register(
        merge_context.MergeContext(
            namespace="cart",
            fields=CART_FIELDS,
            lists={"items": ITEM_FIELDS},
            provider=cart_for_contact,
            labels=CART_LABELS,
        )
    )
