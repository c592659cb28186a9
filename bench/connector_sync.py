"""Shop connector benchmark (issues 14, 15): initial import of a simulated Magento or PrestaShop
shop, then a delta.

Baseline in the same run: the time the simulator alone takes to serve the same pages to a bare
client (no processing). Bar: serve time / sync time >= 0.3; a delta after 1 % of customers
changed < 5 % of the initial import's time; worker peak RSS flat (< 300 MB).

The simulator runs in this process (a thread): its shop's memory is measured before the sync
starts, and the figure reported is the growth of the peak RSS during the sync.

    DATABASE_URL=postgres://... python -m bench.connector_sync [--customers 100000]
        [--platform prestashop] [--ps-version 1.6|1.7|8]
"""

import argparse
import os
import random
import resource
import time

from bench.import_contacts import setup_django


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--orders-per-customer", type=float, default=3.0)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--platform", choices=["magento", "prestashop"], default="magento")
    parser.add_argument("--ps-version", choices=["1.6", "1.7", "8"], default="8")
    args = parser.parse_args(argv)
    # As a production worker runs: DEBUG keeps every SQL statement in memory (9,000 of them,
    # each bulk UPDATE carrying a page of values), which the RSS figure would count.
    os.environ.setdefault("DEBUG", "false")
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.services import account_create
    from connectors.services import sync_start
    from connectors.sync import sync_run_execute
    from contacts.models import Contact

    started = time.perf_counter()
    bench = _prestashop(args) if args.platform == "prestashop" else _magento(args)
    shop_size, simulator, bare, connect, factory, change = bench
    print(f"shop: {shop_size} generated in {time.perf_counter() - started:.1f} s")

    # Baseline: the shop alone serving every page to a client that does nothing with them
    # (paged as the engine pages: by offset for Magento, by (date_upd, id) for PrestaShop).
    started = time.perf_counter()
    for entity in bare.entities:
        bare.read_all(entity)
    serve = time.perf_counter() - started
    print(f"baseline (shop serves every page, no processing): {serve:.1f} s")

    account = account_create(name=f"Bench connector {random.randrange(10**6)}")
    connection = connect(account)

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    run = sync_run_execute(sync_start(connection=connection).pk, factory)
    full = time.perf_counter() - started
    contacts = Contact.objects.filter(account=account).count()
    print(
        f"initial import: {run.status}, {full:.1f} s, {contacts} contacts "
        f"({contacts / full:.0f} contacts/s; customers {run.customers_read}, orders "
        f"{run.orders_read}, carts {run.carts_read}); serve/sync ratio {serve / full:.2f} "
        f"(bar >= 0.3); peak RSS growth {peak_rss_mb() - rss_before:.0f} MB "
        f"(process peak {peak_rss_mb():.0f} MB incl. the simulated shop)"
    )

    change()
    started = time.perf_counter()
    delta = sync_run_execute(sync_start(connection=connection).pk, factory)
    elapsed = time.perf_counter() - started
    print(
        f"delta after 1 % customers changed: {delta.status}, {elapsed:.1f} s "
        f"= {elapsed / full * 100:.1f} % of the import (bar < 5 %); read "
        f"{delta.customers_read} customers, {delta.orders_read} orders, {delta.carts_read} carts"
    )
    simulator.stop()


class BareReader:
    """Reads every page of an entity and keeps nothing."""

    def __init__(self, client, entities, keyset):
        self.client, self.entities, self.keyset = client, entities, keyset

    def read_all(self, entity):
        since, seen_id, page = None, 0, 1
        while True:
            result = self.client.fetch_changed(entity, since=since, page=page)
            if result.is_last or not result.records:
                return
            if not self.keyset:
                page += 1
                continue
            last = result.records[-1]
            if since is None or last.updated_at > since:
                since, seen_id, page = last.updated_at, last.external_id, 1
            else:
                seen_id, page = max(seen_id, last.external_id), page + 1


def _magento(args):
    from connectors.credentials import ShopCredentials
    from connectors.magento.client import MagentoClient
    from connectors.magento.simulator import MagentoShop, MagentoSimulator
    from connectors.platforms import shop_client_for
    from connectors.services import connection_create

    shop = MagentoShop(
        customers=args.customers,
        orders_per_customer=args.orders_per_customer,
        carts=args.customers // 10,
        seed=11,
    )
    simulator = MagentoSimulator(shop).start()
    credentials = ShopCredentials("ck-simulator", "cs-simulator", "at-simulator", "ats-simulator")
    bare = MagentoClient(
        base_url=simulator.url, credentials=credentials, page_size=args.page_size,
        rate_per_second=0,
    )  # fmt: skip

    def connect(account):
        return connection_create(
            account=account, name="Bench", shop_url=simulator.url, credentials=credentials
        )

    def factory(conn):
        return shop_client_for(conn, rate_per_second=0, page_size=args.page_size)

    def change():
        changed = random.Random(3).sample(list(shop.customers), max(1, len(shop.customers) // 100))
        for customer_id in changed:
            shop.update_customer(customer_id, lastname="Modifié")

    size = f"{len(shop.customers)} customers, {len(shop.orders)} orders, {len(shop.carts)} carts"
    reader = BareReader(bare, ["customers", "orders", "carts"], keyset=False)
    return size, simulator, reader, connect, factory, change


def _prestashop(args):
    from connectors.credentials import ShopCredentials
    from connectors.models import Platform
    from connectors.platforms import shop_client_for
    from connectors.prestashop.client import PrestaShopClient
    from connectors.prestashop.simulator import (
        SIMULATOR_KEY,
        PrestaShopShop,
        PrestaShopSimulator,
    )
    from connectors.services import connection_create

    shop = PrestaShopShop(
        customers=args.customers,
        orders_per_customer=args.orders_per_customer,
        carts=args.customers // 10,
        seed=11,
    )
    simulator = PrestaShopSimulator(shop, version=args.ps_version).start()
    bare = PrestaShopClient(
        base_url=simulator.url, key=SIMULATOR_KEY, page_size=args.page_size, rate_per_second=0
    )

    def connect(account):
        return connection_create(
            account=account, name="Bench", platform=Platform.PRESTASHOP,
            shop_url=simulator.url, credentials=ShopCredentials(access_token=SIMULATOR_KEY),
        )  # fmt: skip

    def factory(conn):
        return shop_client_for(conn, rate_per_second=0, page_size=args.page_size)

    def change():
        ids = list(shop.tables["customers"])
        for customer_id in random.Random(3).sample(ids, max(1, len(ids) // 100)):
            shop.update_customer(customer_id, lastname="Modifié")

    tables = shop.tables
    size = (
        f"PrestaShop {args.ps_version}: {len(tables['customers'])} customers, "
        f"{len(tables['orders'])} orders, {len(tables['carts'])} carts, "
        f"{len(tables['sendethic_subscribers'])} guest subscribers"
    )
    reader = BareReader(bare, ["customers", "orders", "carts", "subscribers"], keyset=True)
    return size, simulator, reader, connect, factory, change


if __name__ == "__main__":
    main()
