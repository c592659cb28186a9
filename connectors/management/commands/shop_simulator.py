"""Serve a generated shop on loopback: `manage.py shop_simulator magento --customers 1000`, or
`manage.py shop_simulator prestashop --version 1.6 --multistore`."""

import time

from django.core.management.base import BaseCommand, CommandError

from connectors.demo import demo_shop
from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.prestashop.simulator import SIMULATOR_KEY, PrestaShopShop, PrestaShopSimulator


class Command(BaseCommand):
    help = (
        "Serve a simulated shop (Magento 2 REST or PrestaShop Webservice) on 127.0.0.1, for "
        "demos, tests and the bench."
    )

    def add_arguments(self, parser):
        parser.add_argument("platform", choices=["magento", "prestashop"])
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--orders-per-customer", type=float, default=None)
        parser.add_argument("--carts", type=int, default=None)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--port", type=int, default=8765)
        magento = parser.add_argument_group("Magento")
        magento.add_argument("--bearer", action="store_true", help="Accept the token as Bearer.")
        magento.add_argument("--consumer-key", default="ck-simulator")
        magento.add_argument("--consumer-secret", default="cs-simulator")
        magento.add_argument("--access-token", default="at-simulator")
        magento.add_argument("--access-token-secret", default="ats-simulator")
        magento.add_argument(
            "--demo",
            action="store_true",
            help="Serve the demo shop of `make run` (connectors.demo), whatever the sizes given.",
        )
        prestashop = parser.add_argument_group("PrestaShop")
        prestashop.add_argument(
            "--ps-version", choices=sorted(PrestaShopSimulator.VERSIONS), default="8",
            help="1.6: XML only, numbers as strings; 1.7: JSON, strings, [] for empty lists; "
            "8: JSON, ints, {\"customers\": []}.",
        )  # fmt: skip
        prestashop.add_argument("--string-types", action="store_true", help="Force strings.")
        prestashop.add_argument("--int-types", action="store_true", help="Force ints.")
        prestashop.add_argument("--empty", choices=["bare", "wrapped"], default=None)
        prestashop.add_argument("--multistore", action="store_true")
        prestashop.add_argument("--key", default=SIMULATOR_KEY, help="32-character key.")
        prestashop.add_argument("--time-zone", default="Europe/Paris")
        prestashop.add_argument(
            "--without-module", action="store_true",
            help="No Sendethic module: guest subscribers are not exposed.",
        )  # fmt: skip

    def handle(self, *args, **options):
        if options["customers"] < 0:
            raise CommandError("--customers must be positive")
        if options["platform"] == "prestashop":
            self._prestashop(options)
            return
        started = time.perf_counter()
        if options["demo"]:
            shop = demo_shop()
        else:
            shop = MagentoShop(
                customers=options["customers"],
                orders_per_customer=options["orders_per_customer"] or 3.0,
                carts=options["carts"],
                seed=options["seed"],
            )
        try:
            simulator = self._simulator(shop, options)
        except OSError as error:
            if not options["demo"]:
                raise CommandError(f"Port {options['port']}: {error}") from error
            # `make run` stops every process when one ends: the demo shop is optional, so the
            # platform stays up without it (the connection's test then says the shop is down).
            self.stderr.write(f"Demo shop not served: port {options['port']}: {error}")
            while True:
                time.sleep(3600)
        self.stdout.write(
            f"Magento simulator on {simulator.url} (generated {len(shop.customers)} customers, "
            f"{len(shop.orders)} orders, {len(shop.carts)} carts in "
            f"{time.perf_counter() - started:.1f} s; consumer key {options['consumer_key']})"
        )
        self._serve(simulator)

    def _prestashop(self, options):
        if len(options["key"]) != 32:
            raise CommandError("--key must have 32 characters, as PrestaShop's keys do")
        started = time.perf_counter()
        shop = PrestaShopShop(
            customers=options["customers"],
            orders_per_customer=options["orders_per_customer"] or 2.0,
            carts=options["carts"],
            multistore=options["multistore"],
            seed=options["seed"],
            time_zone=options["time_zone"],
        )
        int_types = True if options["int_types"] else (False if options["string_types"] else None)
        simulator = PrestaShopSimulator(
            shop,
            port=options["port"],
            key=options["key"],
            version=options["ps_version"],
            int_types=int_types,
            empty=options["empty"],
            module_installed=not options["without_module"],
        )
        tables = shop.tables
        self.stdout.write(
            f"PrestaShop {options['ps_version']} simulator on {simulator.url} "
            f"({'JSON' if simulator.json_output else 'XML only'}, "
            f"{'ints' if simulator.int_types else 'strings'}, empty lists {simulator.empty}, "
            f"{len(shop.shops)} shop(s)): generated {len(tables['customers'])} customers, "
            f"{len(tables['orders'])} orders, {len(tables['carts'])} carts, "
            f"{len(tables['sendethic_subscribers'])} guest subscribers in "
            f"{time.perf_counter() - started:.1f} s; webservice key {options['key']}"
        )
        self._serve(simulator)

    def _serve(self, simulator):
        try:
            simulator.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.server.server_close()

    def _simulator(self, shop, options) -> MagentoSimulator:
        return MagentoSimulator(
            shop,
            port=options["port"],
            consumer_key=options["consumer_key"],
            consumer_secret=options["consumer_secret"],
            access_token=options["access_token"],
            access_token_secret=options["access_token_secret"],
            allow_bearer=options["bearer"],
        )
