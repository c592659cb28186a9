from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.mirror import mirror_upsert
from connectors.models import ShopCart, ShopCustomer, ShopOrder
from connectors.sync import ORDER_UPDATES

AWKWARD_TEXTS = ["", 'Le "Petit" Café, Paris', "deux\nlignes\tet tab", "\\.", "O'Brien ; ç’œ €"]


@pytest.mark.django_db
def test_mirror_rows_round_trip_exactly_and_update_on_conflict(connection):
    # given rows with empty texts, quotes, separators, newlines, NULLs and JSON
    moment = datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)
    orders = [
        {
            "connection_id": connection.pk,
            "external_id": index + 1,
            "email": f"client{index}@example.com",
            "customer_id": None if index % 2 else index,
            "quote_id": None,
            "first_name": text,
            "last_name": text[::-1],
            "state": "complete",
            "grand_total": Decimal("1234.5678"),
            "total_refunded": Decimal("0"),
            "currency": "" if index == 0 else "EUR",
            "created_at": moment,
            "updated_at": moment,
        }
        for index, text in enumerate(AWKWARD_TEXTS)
    ]
    cart = {
        "connection_id": connection.pk,
        "external_id": 9,
        "email": "panier@example.com",
        "is_active": True,
        "items": [{"name": 'Sac "cabas"\n, rouge', "sku": "S-1", "qty": 2.0, "price": "9.90"}],
        "total": Decimal("19.80"),
        "currency": "EUR",
        "updated_at": moment,
    }
    customer = {
        "connection_id": connection.pk,
        "external_id": 5,
        "email": "client@example.com",
        "is_subscribed": False,
        "store_id": None,
        "updated_at": "2026-03-01 12:30:15",
        "profile": {"email": "client@example.com", "first_name": "Zoé", "fields": {}},
    }
    # when
    mirror_upsert(ShopOrder, orders, update=ORDER_UPDATES)
    mirror_upsert(ShopCart, [cart], update=["items"])
    mirror_upsert(ShopCustomer, [customer], update=["profile"])
    # then every value reads back as written
    stored = {o.external_id: o for o in ShopOrder.objects.filter(connection=connection)}
    for row in orders:
        order = stored[row["external_id"]]
        for name, value in row.items():
            assert getattr(order, name) == value, (name, value)
    assert ShopCart.objects.get(connection=connection).items == cart["items"]
    assert ShopCustomer.objects.get(connection=connection).profile == customer["profile"]

    # when the same keys come again, changed (and one key twice: the last row wins)
    changed = [dict(orders[1], state="canceled"), dict(orders[1], state="closed")]
    mirror_upsert(ShopOrder, changed, update=ORDER_UPDATES)
    mirror_upsert(ShopCustomer, [dict(customer, profile=None)], update=["profile"])
    # then they are updated in place
    assert ShopOrder.objects.filter(connection=connection).count() == len(orders)
    assert ShopOrder.objects.get(connection=connection, external_id=2).state == "closed"
    assert ShopCustomer.objects.get(connection=connection).profile is None
