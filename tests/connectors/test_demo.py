"""`make run`'s demo shop: connected, imported once, the same shop in every process."""

import socket

import pytest
from django.core.management import call_command

from connectors.demo import DEMO_SHOP_NAME, demo_shop
from connectors.models import ShopConnection, SyncRun
from contacts.models import Contact, Segment
from contacts.normalization import normalize_email


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_demo_connects_the_simulated_shop_with_its_first_import_done(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    port = free_port()
    # when
    call_command("demo", shop_port=port)
    # then
    connection = ShopConnection.objects.get(name=DEMO_SHOP_NAME)
    assert connection.shop_url == f"http://127.0.0.1:{port}"
    run = connection.runs.get()
    assert (run.kind, run.status) == (SyncRun.Kind.FULL, SyncRun.Status.SUCCEEDED)
    shop = demo_shop()
    assert run.customers_read == len(shop.customers) and run.orders_read == len(shop.orders)
    account = connection.account
    emails = {normalize_email(customer.email) for customer in shop.customers.values()}
    assert Contact.objects.filter(account=account, key__in=emails).count() == len(emails)
    assert Segment.objects.filter(account=account, name__startswith="[MB]").count() == 11
    assert "first import done" in capsys.readouterr().out
    # when `make run` starts again, on another port
    call_command("demo", shop_port=port + 1 if port < 65535 else port - 1)
    # then the connection follows the port and nothing is imported twice
    connection.refresh_from_db()
    assert connection.shop_url.endswith(str(port + 1 if port < 65535 else port - 1))
    assert connection.runs.count() == 1
    assert "already imported" in capsys.readouterr().out


def test_the_demo_shop_is_the_same_in_every_process():
    first, second = demo_shop(), demo_shop()
    assert [(c.email, c.updated_at) for c in first.customers.values()] == [
        (c.email, c.updated_at) for c in second.customers.values()
    ]
    assert len(first.orders) == len(second.orders) > 0
