import socket

import pytest

from connectors.credentials import (
    ShopCredentials,
    decrypt_credentials,
    encrypt_credentials,
)
from connectors.magento.client import MagentoClient
from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.shop_client import (
    ShopBadResponse,
    ShopStoreViewUnknown,
    ShopTemporaryError,
    ShopTlsError,
    ShopUnauthorized,
    ShopUnreachable,
)
from tests.connectors.conftest import SIMULATOR_CREDENTIALS


def client_for(simulator, **options):
    options = {"rate_per_second": 0, "backoff_base": 0.01, "page_size": 25, **options}
    credentials = options.pop("credentials", SIMULATOR_CREDENTIALS)
    return MagentoClient(base_url=simulator.url, credentials=credentials, **options)


def test_credentials_are_encrypted_and_never_shown():
    token = encrypt_credentials(SIMULATOR_CREDENTIALS)
    assert "cs-simulator" not in token and "ats-simulator" not in token
    assert decrypt_credentials(token) == SIMULATOR_CREDENTIALS
    assert "cs-simulator" not in repr(SIMULATOR_CREDENTIALS)
    assert "ats-simulator" not in str(SIMULATOR_CREDENTIALS)


def test_pages_end_although_magento_repeats_the_last_page(simulator, shop):
    client = client_for(simulator)
    seen, page = [], 1
    while True:
        result = client.fetch_changed("customers", since=None, page=page)
        seen += [record.external_id for record in result.records]
        if result.is_last:
            break
        page += 1
    assert sorted(seen) == sorted(shop.customers)
    # the shop itself serves the last page again past the end
    past_end = client._search("customers", since=None, page=page + 3, page_size=25)
    assert past_end[0], "the simulator repeats the last page like Magento"
    assert client.fetch_changed("customers", since=None, page=page + 3).records == []


def test_filters_on_updated_at_and_reads_extension_attributes(simulator, shop):
    client = client_for(simulator, page_size=500)
    middle = sorted(c.updated_at for c in shop.customers.values())[60]
    result = client.fetch_changed("customers", since=middle, page=1)
    assert {r.external_id for r in result.records} == {
        c.id for c in shop.customers.values() if c.updated_at >= middle
    }
    subscribed = {c.id for c in shop.customers.values() if c.is_subscribed}
    assert {r.external_id for r in result.records if r.is_subscribed} <= subscribed


def test_retries_429_and_503_then_succeeds(simulator):
    simulator.faults.fail_next = [429, 503, 502]
    simulator.faults.retry_after = "0"
    result = client_for(simulator).fetch_changed("orders", since=None, page=1)
    assert result.records
    simulator.faults.fail_next = [503] * 10
    with pytest.raises(ShopTemporaryError):
        client_for(simulator, max_attempts=3).fetch_changed("orders", since=None, page=1)


def test_missing_acl_resource_is_named(simulator):
    simulator.granted.discard("Magento_Sales::actions_view")
    check = client_for(simulator).check()
    assert check.missing_resources == ["Magento_Sales::actions_view"]
    with pytest.raises(ShopUnauthorized) as error:
        client_for(simulator).fetch_changed("orders", since=None, page=1)
    assert error.value.resource == "Magento_Sales::actions_view"
    assert "Magento_Sales::actions_view" in error.value.message


def test_wrong_secret_is_refused():
    shop = MagentoShop(customers=3, seed=2)
    simulator = MagentoSimulator(shop).start()
    try:
        wrong = ShopCredentials("ck-simulator", "nope", "at-simulator", "ats-simulator")
        with pytest.raises(ShopUnauthorized) as error:
            client_for(simulator, credentials=wrong).check()
        assert "Magento_Cart::manage" in error.value.message
        # the access token alone works only where the shop allows bearer tokens
        bearer = ShopCredentials(access_token="at-simulator")
        with pytest.raises(ShopUnauthorized):
            client_for(simulator, credentials=bearer).fetch_changed("customers", since=None, page=1)
        simulator.allow_bearer = True
        page = client_for(simulator, credentials=bearer).fetch_changed(
            "customers", since=None, page=1
        )
        assert len(page.records) == 3
    finally:
        simulator.stop()


def test_unknown_store_view(simulator):
    with pytest.raises(ShopStoreViewUnknown) as error:
        client_for(simulator, store_view_codes=["de"]).check()
    assert "de" in error.value.message


def test_store_view_scope_marks_other_views(simulator, shop):
    client = client_for(simulator, store_view_codes=["fr_be"], page_size=500)
    records = client.fetch_changed("customers", since=None, page=1).records
    inside = {r.external_id for r in records if not r.outside_scope}
    assert inside == {c.id for c in shop.customers.values() if c.store_id == 2}


def test_malformed_json(simulator):
    simulator.faults.malformed_paths.add("orders")
    with pytest.raises(ShopBadResponse):
        client_for(simulator).fetch_changed("orders", since=None, page=1)


def test_shop_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = MagentoClient(
        base_url=f"http://127.0.0.1:{port}",
        credentials=SIMULATOR_CREDENTIALS,
        rate_per_second=0,
        backoff_base=0.01,
        max_attempts=2,
    )
    with pytest.raises(ShopUnreachable):
        client.check()


def test_opt_in_write_back_keeps_addresses(simulator, shop):
    customer = next(c for c in shop.customers.values() if c.addresses and c.is_subscribed)
    client_for(simulator).set_subscription(external_id=customer.id, subscribed=False)
    assert shop.customers[customer.id].is_subscribed is False
    assert shop.customers[customer.id].addresses, "a PUT without addresses keeps them"


def test_pacing_limits_the_request_rate(simulator):
    import time

    client = client_for(simulator, rate_per_second=20)
    started = time.monotonic()
    for _ in range(6):
        client.fetch_changed("carts", since=None, page=1)
    assert time.monotonic() - started >= 5 / 20


def test_tls_error_is_told_apart(simulator):
    # https to a plain-HTTP server: the TLS handshake fails
    client = MagentoClient(
        base_url=simulator.url.replace("http://", "https://"),
        credentials=SIMULATOR_CREDENTIALS,
        rate_per_second=0,
        max_attempts=1,
    )
    with pytest.raises(ShopTlsError):
        client.check()
