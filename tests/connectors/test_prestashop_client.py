"""The PrestaShop Webservice client against the loopback simulator, per version toggle."""

import socket
import zoneinfo
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
import requests

from connectors.prestashop.client import PrestaShopClient
from connectors.prestashop.simulator import SIMULATOR_KEY, PrestaShopShop, PrestaShopSimulator
from connectors.shop_client import (
    ShopError,
    ShopStoreViewUnknown,
    ShopUnauthorized,
    ShopUnreachable,
)

VERSIONS = ["1.6", "1.7", "8"]


def client_for(simulator, **options):
    options = {"rate_per_second": 0, "backoff_base": 0.01, "page_size": 25, **options}
    return PrestaShopClient(
        base_url=simulator.url, key=options.pop("key", SIMULATOR_KEY), **options
    )


@pytest.fixture
def running():
    started = []

    def start(shop=None, **options):
        simulator = PrestaShopSimulator(shop or PrestaShopShop(customers=60, seed=4), **options)
        started.append(simulator.start())
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


def read_all(client, entity, since=None):
    records, page = [], 1
    while True:
        result = client.fetch_changed(entity, since=since, page=page)
        records += result.records
        if result.is_last:
            return records
        page += 1


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_reads_the_same_records(running, version):
    shop = PrestaShopShop(customers=60, seed=4)
    simulator = running(shop, version=version)
    client = client_for(simulator)
    customers = read_all(client, "customers")
    orders = read_all(client, "orders")
    # paging without totals reaches every row, each once
    assert sorted(c.external_id for c in customers) == sorted(shop.tables["customers"])
    assert sorted(o.external_id for o in orders) == sorted(shop.tables["orders"])
    # 1.6 asked for JSON and got XML; the others JSON
    sent_json = [q for _m, _r, q in simulator.requests_log if "output_format=JSON" in q]
    assert sent_json
    row = shop.tables["customers"][customers[0].external_id]
    record = customers[0]
    assert record.email == row["email"] and record.first_name == row["firstname"]
    assert record.is_subscribed is bool(row["newsletter"])
    assert record.extra_fields["group_ids"] == ",".join(map(str, sorted(set(row.groups))))
    assert isinstance(record.extra_fields["shop_id"], int)
    assert all(isinstance(o.grand_total, type(orders[0].grand_total)) for o in orders)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("empty", ["bare", "wrapped"])
def test_empty_lists_in_every_shape(running, version, empty):
    simulator = running(version=version, empty=empty)
    client = client_for(simulator)
    page = client.fetch_changed("customers", since="9000-01-01 00:00:00", page=1)
    assert page.records == [] and page.is_last


def test_xml_only_shop_answers_xml_and_types_are_coerced(running):
    shop = PrestaShopShop(customers=5, seed=2)
    simulator = running(shop, version="1.6")
    response = requests.get(
        f"{simulator.url}/api/customers", params={"output_format": "JSON", "display": "full"},
        auth=(SIMULATOR_KEY, ""), timeout=5,
    )  # fmt: skip
    assert response.content.lstrip().startswith(b"<?xml")
    records = read_all(client_for(simulator), "customers")
    assert {type(r.external_id) for r in records} == {int}


def test_dates_need_date_1_and_are_converted_from_the_shop_time_zone(running):
    shop = PrestaShopShop(customers=0, seed=1, time_zone="America/New_York")
    customer = shop.add_customer(
        email="jean@exemple.fr", lastname="Dupont", firstname="Jean",
        created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
        updated_at=datetime(2026, 7, 2, 3, 30, tzinfo=UTC),
    )  # fmt: skip
    simulator = running(shop)
    without_date = requests.get(
        f"{simulator.url}/api/customers",
        params={"output_format": "JSON", "filter[date_upd]": "[2026-01-01,2027-01-01]"},
        auth=(SIMULATOR_KEY, ""), timeout=5,
    )  # fmt: skip
    assert without_date.status_code == 400
    assert without_date.json()["errors"][0]["code"] == 32
    (record,) = read_all(client_for(simulator), "customers")
    assert record.external_id == customer["id"]
    # shop clock (EDT, UTC−4) for the watermark; UTC for the dates
    assert record.updated_at == "2026-07-01 23:30:00"
    assert record.created_at == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert record.extra_fields["last_login"] == "2026-07-02"
    client = client_for(simulator)
    assert read_all(client, "customers", since="2026-07-01 23:30:01") == []
    assert client.tz == zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_keys_are_told_apart(running, version):
    simulator = running(version=version)
    with pytest.raises(ShopUnauthorized, match="refusé cette clé webservice"):
        client_for(simulator, key="X" * 32).check()
    with pytest.raises(ShopUnauthorized, match="32 caractères"):
        client_for(simulator, key="short").check()
    response = requests.get(f"{simulator.url}/api/customers", timeout=5)
    assert response.status_code == 401 and response.text == "401 Unauthorized"
    assert "authentication key as the login" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_resource_permission_is_named(running, version):
    from connectors.prestashop.simulator import ALL_PERMISSIONS

    permissions = {k: v for k, v in ALL_PERMISSIONS.items() if k != "carts"}
    simulator = running(version=version, permissions=permissions)
    check = client_for(simulator).check()
    assert check.missing_resources == ["carts"] and not check.ok
    with pytest.raises(ShopUnauthorized, match="« carts »") as caught:
        client_for(simulator).fetch_changed("carts", since=None, page=1)
    assert caught.value.resource == "carts"


def test_shop_down_and_retries(running):
    simulator = running()
    simulator.faults.fail_next = [503, 500]
    assert read_all(client_for(simulator), "customers")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    down = PrestaShopClient(base_url=f"http://127.0.0.1:{port}", key=SIMULATOR_KEY,
                            rate_per_second=0, backoff_base=0.01, max_attempts=2)  # fmt: skip
    with pytest.raises(ShopUnreachable):
        down.check()
    simulator.faults.webservice_disabled = True
    with pytest.raises(ShopError, match="webservice de la boutique est désactivé"):
        client_for(simulator).check()


def customer_document(simulator, customer_id) -> dict:
    response = requests.get(
        f"{simulator.url}/api/customers/{customer_id}", auth=(SIMULATOR_KEY, ""), timeout=5
    )
    element = ElementTree.fromstring(response.content).find("customer")  # noqa: S314 - loopback
    return {child.tag: ElementTree.tostring(child) for child in element}


@pytest.mark.parametrize("version", VERSIONS)
def test_opt_in_round_trip_through_xml_put_changes_nothing_else(running, version):
    shop = PrestaShopShop(customers=0, seed=1)
    customer = shop.add_customer(
        email="ines@exemple.fr", firstname="Inès", lastname="Côté", id_gender=2,
        birthday="1990-04-01", newsletter=True, groups=(3, 4), company="Côté & fils",
        note="Cliente fidèle", address={"phone_mobile": "0612345678", "postcode": "69003"},
        created_at=datetime(2025, 5, 1, 8, tzinfo=UTC),
    )  # fmt: skip
    simulator = running(shop, version=version)
    before = customer_document(simulator, customer["id"])
    client_for(simulator).set_subscription(external_id=customer["id"], subscribed=False)
    after = customer_document(simulator, customer["id"])
    assert shop.tables["customers"][customer["id"]]["newsletter"] == 0
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed == {"newsletter", "date_upd"}
    assert set(after) == set(before)
    assert ("PUT", f"customers/{customer['id']}", "") in simulator.requests_log


def test_the_write_back_read_is_retried_like_every_request(running):
    # the GET of the whole document before the PUT meets a busy shop: retried, then written
    shop = PrestaShopShop(customers=0, seed=1)
    customer = shop.add_customer(email="a@exemple.fr", firstname="A", lastname="B", newsletter=True)
    simulator = running(shop)
    simulator.faults.fail_next = [503, 429]
    client_for(simulator).set_subscription(external_id=customer["id"], subscribed=False)
    assert shop.tables["customers"][customer["id"]]["newsletter"] == 0


def test_a_partial_put_would_null_the_rest(running):
    """What the full-document PUT avoids: the simulator nulls what a PUT leaves out."""
    shop = PrestaShopShop(customers=0, seed=1)
    customer = shop.add_customer(email="a@exemple.fr", firstname="A", lastname="B", note="N")
    simulator = running(shop)
    body = (
        f"<prestashop><customer><id>{customer['id']}</id><lastname>B</lastname>"
        "<firstname>A</firstname><email>a@exemple.fr</email><passwd>x</passwd>"
        "<newsletter>1</newsletter></customer></prestashop>"
    )
    response = requests.put(
        f"{simulator.url}/api/customers/{customer['id']}", data=body.encode(),
        auth=(SIMULATOR_KEY, ""), timeout=5,
    )  # fmt: skip
    assert response.status_code == 200
    assert shop.tables["customers"][customer["id"]]["note"] is None
    missing_required = body.replace("<passwd>x</passwd>", "")
    response = requests.put(
        f"{simulator.url}/api/customers/{customer['id']}", data=missing_required.encode(),
        auth=(SIMULATOR_KEY, ""), timeout=5,
    )  # fmt: skip
    assert response.status_code == 400 and b"41" in response.content


def test_multistore_selection(running):
    shop = PrestaShopShop(customers=80, seed=9, multistore=True)
    simulator = running(shop)
    by_shop = {}
    for row in shop.tables["customers"].values():
        by_shop.setdefault(row["id_shop"], set()).add(row["id"])
    assert set(by_shop) == {1, 2, 3}
    everything = client_for(simulator)
    assert [view.name for view in everything.store_views()] == [
        "Boutique France", "Boutique Belgique", "Outlet",
    ]  # fmt: skip
    assert {r.external_id for r in read_all(everything, "customers")} == set(
        shop.tables["customers"]
    )
    only_belgium = client_for(simulator, shop_ids=[2])
    assert {r.external_id for r in read_all(only_belgium, "customers")} == by_shop[2]
    assert {r.store_id for r in read_all(only_belgium, "orders")} == {2}
    two = client_for(simulator, shop_ids=[1, 3])
    assert {r.external_id for r in read_all(two, "customers")} == by_shop[1] | by_shop[3]
    with pytest.raises(ShopStoreViewUnknown):
        client_for(simulator, shop_ids=[7]).check()
    # without id_shop, PrestaShop answers the default shop's customers only
    response = requests.get(
        f"{simulator.url}/api/customers", params={"output_format": "JSON", "display": "[id]"},
        auth=(SIMULATOR_KEY, ""), timeout=5,
    )  # fmt: skip
    assert {int(c["id"]) for c in response.json()["customers"]} == by_shop[1]


def test_order_states_come_from_the_shop_configuration(running):
    shop = PrestaShopShop(customers=0, seed=1)
    buyer = shop.add_customer(email="b@exemple.fr", firstname="B", lastname="C")
    line = [("MUG-CERAM", "Mug", 1, 10.0)]
    for state in (1, 2, 3, 4, 5, 6, 7, 8):
        shop.add_order(customer_id=buyer["id"], lines=line, state=state)
    simulator = running(shop)
    states = [o.state for o in read_all(client_for(simulator), "orders")]
    # 3 and 4 show the delivery slip (`delivery` flag) but are not delivered: PS_OS_DELIVERED is
    assert states == [
        "pending", "paid", "paid", "paid", "delivered", "cancelled", "refunded", "payment_error",
    ]  # fmt: skip


@pytest.mark.parametrize("version", VERSIONS)
def test_the_management_command_serves_a_multistore_shop(version):
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shop_simulator", "prestashop", "--customers", "30",
         "--multistore", "--ps-version", version, "--port", str(port)],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = process.stdout.readline()
        assert f"PrestaShop {version} simulator on http://127.0.0.1:{port}" in banner, (
            banner + process.stderr.read()
        )
        assert ("XML only" in banner) == (version == "1.6")
        client = PrestaShopClient(base_url=f"http://127.0.0.1:{port}", key=SIMULATOR_KEY,
                                  rate_per_second=0, page_size=10)  # fmt: skip
        assert len(client.store_views()) == 3
        assert len(read_all(client, "customers")) == 30
    finally:
        process.terminate()
        process.wait(timeout=30)
