"""Shop connector benchmark (issues 14, 15): initial import of a simulated Magento or PrestaShop
shop, then a delta.

Baseline in the same run: the time the simulator alone takes to serve the same pages to a bare
client (no processing). Bar: serve time / sync time >= 0.3; a delta after 1 % of customers
changed < 5 % of the initial import's time; worker peak RSS flat (< 300 MB).

By default the simulated shop runs in its own process (`manage.py shop_simulator`), as a real
shop runs on its own server: in this process its Python would hold the interpreter lock the
worker needs, a cost no production worker pays. `--shop-in-process` serves it from a thread
of this process instead (the figures of sessions before 9), for comparison. Either way the
RSS figure is the growth of this process's peak during the sync. The delta's 1 % of changed
customers are changed through the shop's API (their newsletter flag flipped, as the
write-back does), as an admin's edit would reach the shop.

    DATABASE_URL=postgres://... python -m bench.connector_sync [--customers 100000]
        [--platform prestashop] [--ps-version 1.6|1.7|8] [--shop-in-process]
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

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
    parser.add_argument("--shop-in-process", action="store_true")
    args = parser.parse_args(argv)
    # As a production worker runs: DEBUG keeps every SQL statement in memory (9,000 of them,
    # each bulk UPDATE carrying a page of values), which the RSS figure would count.
    os.environ.setdefault("DEBUG", "false")
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    bench = _prestashop(args) if args.platform == "prestashop" else _magento(args)
    shop_size, simulator, bare, connect, factory, change = bench
    print(f"shop: {shop_size} generated in {time.perf_counter() - started:.1f} s")

    try:
        _measure(args, bare, connect, factory, change)
    finally:
        simulator.stop()


def _measure(args, bare, connect, factory, change) -> None:
    from accounts.services import account_create
    from connectors.services import sync_start
    from connectors.sync import sync_run_execute
    from contacts.models import Contact

    # Baseline: the shop alone serving every page to a client that does nothing with them
    # (paged as the engine pages: by offset for Magento, by (date_upd, id) for PrestaShop).
    started = time.perf_counter()
    for entity in bare.entities:
        bare.read_all(entity)
    serve = time.perf_counter() - started
    where = "a thread of this process" if args.shop_in_process else "its own process"
    print(f"baseline (shop in {where} serves every page, no processing): {serve:.1f} s")

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
        f"(process peak {peak_rss_mb():.0f} MB{' incl. the simulated shop' if args.shop_in_process else ''})"
    )

    change(bare)
    started = time.perf_counter()
    delta = sync_run_execute(sync_start(connection=connection).pk, factory)
    elapsed = time.perf_counter() - started
    print(
        f"delta after 1 % customers changed: {delta.status}, {elapsed:.1f} s "
        f"= {elapsed / full * 100:.1f} % of the import (bar < 5 %); read "
        f"{delta.customers_read} customers, {delta.orders_read} orders, {delta.carts_read} carts"
    )


class BareReader:
    """Reads every page of an entity and keeps nothing but the customers' ids and newsletter
    flags (the delta changes some)."""

    def __init__(self, client, entities, keyset):
        self.client, self.entities, self.keyset = client, entities, keyset
        self.subscribed: dict[int, bool] = {}

    def read_all(self, entity):
        since, seen_id, page = None, 0, 1
        while True:
            result = self.client.fetch_changed(entity, since=since, page=page)
            if entity == "customers":
                self.subscribed.update((r.external_id, r.is_subscribed) for r in result.records)
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


def _flip_subscriptions(reader: BareReader) -> None:
    """1 % of the customers changed in the shop, through its API. A customer the shop refuses
    to save as it is (the simulated PrestaShop has customers without a first name, which its
    PUT requires) is passed over for another."""
    from connectors.shop_client import ShopError

    ids = sorted(reader.subscribed)
    wanted, changed, refused = max(1, len(ids) // 100), 0, 0
    for customer_id in random.Random(3).sample(ids, len(ids)):
        try:
            reader.client.set_subscription(
                external_id=customer_id, subscribed=not reader.subscribed[customer_id]
            )
        except ShopError:
            refused += 1
            continue
        changed += 1
        if changed == wanted:
            break
    if refused:
        print(f"({refused} customers the shop refused to save were passed over)")


def _shop_sizes(args) -> dict:
    """The same shop, whether served in this process or in its own."""
    return {
        "customers": args.customers,
        "orders_per_customer": args.orders_per_customer,
        "carts": args.customers // 10,
        "seed": 11,
    }


class ShopProcess:
    """`manage.py shop_simulator <platform>` of these sizes on a free loopback port, until
    stop()."""

    def __init__(self, platform: str, sizes: dict, *options: str):
        manage = Path(__file__).resolve().parent.parent / "manage.py"
        for name, value in sizes.items():
            options += (f"--{name.replace('_', '-')}", str(value))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                str(manage),
                "shop_simulator",
                platform,
                *options,
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.banner = self.process.stdout.readline().strip()
        if " on http://" not in self.banner:
            self.process.kill()
            raise RuntimeError(f"the shop simulator did not start: {self.banner!r}")
        self.url = self.banner.split(" on ", 1)[1].split()[0]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _magento(args):
    from connectors.credentials import ShopCredentials
    from connectors.magento.client import MagentoClient
    from connectors.magento.simulator import MagentoShop, MagentoSimulator
    from connectors.platforms import shop_client_for
    from connectors.services import connection_create

    if args.shop_in_process:
        shop = MagentoShop(**_shop_sizes(args))
        simulator = MagentoSimulator(shop).start()
        size = (
            f"{len(shop.customers)} customers, {len(shop.orders)} orders, {len(shop.carts)} carts"
        )
    else:
        simulator = ShopProcess("magento", _shop_sizes(args))
        size = simulator.banner
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

    reader = BareReader(bare, ["customers", "orders", "carts"], keyset=False)
    return size, simulator, reader, connect, factory, _flip_subscriptions


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

    if args.shop_in_process:
        shop = PrestaShopShop(**_shop_sizes(args))
        simulator = PrestaShopSimulator(shop, version=args.ps_version).start()
        tables = shop.tables
        size = (
            f"PrestaShop {args.ps_version}: {len(tables['customers'])} customers, "
            f"{len(tables['orders'])} orders, {len(tables['carts'])} carts, "
            f"{len(tables['sendethic_subscribers'])} guest subscribers"
        )
    else:
        simulator = ShopProcess("prestashop", _shop_sizes(args), "--ps-version", args.ps_version)
        size = simulator.banner
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

    reader = BareReader(bare, ["customers", "orders", "carts", "subscribers"], keyset=True)
    return size, simulator, reader, connect, factory, _flip_subscriptions


if __name__ == "__main__":
    main()
