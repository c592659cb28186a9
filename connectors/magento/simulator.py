"""A loopback Magento 2 REST shop, for tests, demos and the bench (reference/shop-apis.md §A, §C).

`MagentoShop` generates a French shop from a seed: customers (unicode names, missing fields,
several store views, newsletter flags), orders in every state (guests included, some of them
later registered), and quotes (active with items, or converted and empty). Entities are kept as
small slotted objects; their JSON is rendered per page, so 100,000 customers and 300,000 orders
fit in a few tens of MB.

`MagentoSimulator` serves it over HTTP with the real shapes and quirks: the `{items,
search_criteria, total_count}` wrapper even when empty, the last page repeated past the end,
UTC "Y-m-d H:i:s" strings, the 401 body naming the missing ACL resource, OAuth 1.0a signature
checks (or bearer tokens when allowed), `extension_attributes.is_subscribed` on get and search,
PUT honouring `addresses` omitted/null (kept) versus [] (deleted), `/V1/store/*` without auth.
Faults can be injected (429s, 503s, malformed JSON, a down shop) to test the client's recovery.
"""

import bisect
import json
import random
import threading
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from oauthlib.oauth1.rfc5849 import signature, utils

TIME = "%Y-%m-%d %H:%M:%S"
FIRST_NAMES = [
    "Élodie", "Zoé", "François", "Hélène", "Gaëlle", "Loïc", "Noël", "Chloé", "Jérôme",
    "Amélie", "Benoît", "Cécile", "Aurélien", "Maëlys", "Jean-Baptiste", "Inès", "Thibault",
    "Léa", "Raphaël", "Océane", "Théo", "Anaïs", "Mathéo", "Clémence", "Yannick", "Agnès",
]  # fmt: skip
LAST_NAMES = [
    "Lefèvre", "Müller", "Dupré", "Bénard", "Côté", "N'Diaye", "Le Goff", "Garçon", "Martin",
    "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Nguyễn",
]  # fmt: skip
CITIES = [
    ("75011", "Paris"), ("69003", "Lyon"), ("13008", "Marseille"), ("33000", "Bordeaux"),
    ("59000", "Lille"), ("44000", "Nantes"), ("67000", "Strasbourg"), ("31000", "Toulouse"),
    ("1000", "Bruxelles"), ("06000", "Nice"), ("35000", "Rennes"), ("97400", "Saint-Denis"),
]  # fmt: skip
PRODUCTS = [
    ("TSHIRT-BIO-M", "T-shirt coton bio", 24.9), ("MUG-CERAM", "Mug en céramique", 12.5),
    ("SAVON-LAV", "Savon à la lavande", 6.9), ("CAFE-ETH-250", "Café d'Éthiopie 250 g", 9.8),
    ("SAC-TOILE", "Sac en toile", 15.0), ("BOUGIE-FIGUE", "Bougie parfumée figue", 19.9),
    ("THE-VERT", "Thé vert sencha", 8.4), ("CARNET-A5", "Carnet A5 ligné", 7.5),
]  # fmt: skip
# (state, status, weight): most orders complete; some cancelled or refunded (closed).
ORDER_STATES = [
    ("complete", "complete", 60), ("processing", "processing", 15), ("pending", "pending", 5),
    ("canceled", "canceled", 10), ("closed", "closed", 5), ("holded", "holded", 5),
]  # fmt: skip
STORE_VIEWS = [
    {"id": 1, "code": "default", "name": "Boutique France", "website_id": 1, "store_group_id": 1},
    {"id": 2, "code": "fr_be", "name": "Boutique Belgique", "website_id": 1, "store_group_id": 1},
    {"id": 3, "code": "en", "name": "English store", "website_id": 1, "store_group_id": 1},
]
RESOURCES = {
    "customers": "Magento_Customer::customer",
    "customer_write": "Magento_Customer::manage",
    "orders": "Magento_Sales::actions_view",
    "carts": "Magento_Cart::manage",
}
ALL_RESOURCES = frozenset(RESOURCES.values())


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in ".-")


class Customer:
    __slots__ = (
        "id", "email", "created_at", "updated_at", "store_id", "is_subscribed", "firstname",
        "lastname", "gender", "dob", "addresses", "prefix",
    )  # fmt: skip

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


class Order:
    __slots__ = (
        "entity_id", "customer_id", "email", "firstname", "lastname", "created_at", "updated_at",
        "state", "status", "lines", "shipping", "store_id", "quote_id", "refunded",
    )  # fmt: skip

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    @property
    def subtotal(self) -> float:
        return round(sum(qty * price for _sku, _name, qty, price in self.lines), 2)

    @property
    def grand_total(self) -> float:
        return round(self.subtotal + self.shipping, 2)


class Cart:
    __slots__ = ("id", "customer_id", "created_at", "updated_at", "is_active", "lines", "store_id")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


class SortedIndex:
    """(updated_at, id) of one entity, sorted, rebuilt after writes."""

    def __init__(self, rows: dict, id_attr: str):
        self.rows = rows
        self.id_attr = id_attr
        self.keys: list[tuple[str, int]] = []
        self.dirty = True
        self.lock = threading.Lock()

    def touch(self):
        self.dirty = True

    def from_time(self, since: str | None, strict: bool = False) -> list[tuple[str, int]]:
        with self.lock:
            if self.dirty:
                self.keys = sorted(
                    (row.updated_at, getattr(row, self.id_attr)) for row in self.rows.values()
                )
                self.dirty = False
            keys = self.keys
        if since is None:
            return keys
        position = (
            bisect.bisect_right(keys, (since, float("inf")))
            if strict
            else bisect.bisect_left(keys, (since, -1))
        )
        return keys[position:]


class MagentoShop:
    """The shop's data, generated from a seed; every writer keeps the indexes fresh."""

    def __init__(
        self,
        *,
        customers: int = 100,
        orders_per_customer: float = 3.0,
        carts: int | None = None,
        guests_ratio: float = 0.1,
        seed: int = 1,
        now: datetime | None = None,
    ):
        self.seed = seed
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.customers: dict[int, Customer] = {}
        self.orders: dict[int, Order] = {}
        self.carts: dict[int, Cart] = {}
        self.customers_by_email: dict[str, int] = {}
        self.index = {
            "customers": SortedIndex(self.customers, "id"),
            "orders": SortedIndex(self.orders, "entity_id"),
            "carts": SortedIndex(self.carts, "id"),
        }
        self.lock = threading.RLock()
        self._next_ids = {"customers": 1, "orders": 1, "carts": 1}
        self._generate(customers, orders_per_customer, carts, guests_ratio)

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(UTC).strftime(TIME)

    def _new_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] += 1
        return value

    def _generate(self, count, orders_per_customer, carts, guests_ratio):
        rng = random.Random(self.seed)
        two_years = 730 * 86400
        for number in range(1, count + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = self.now - timedelta(seconds=rng.randrange(86400, two_years))
            updated = created + timedelta(
                seconds=rng.randrange(0, int((self.now - created).total_seconds()))
            )
            zip_code, city = rng.choice(CITIES)
            has_address = rng.random() > 0.1
            phone = rng.random()
            address = None
            if has_address:
                address = {
                    "telephone": (
                        f"06{rng.randrange(10**8):08d}"
                        if phone < 0.6
                        else (f"+33 1 {rng.randrange(10**8):08d}" if phone < 0.8 else "")
                    ),
                    "postcode": zip_code,
                    "city": city,
                    "country_id": "BE" if zip_code == "1000" else "FR",
                    "street": [f"{rng.randrange(1, 120)} rue de la République"],
                }
            email_local = f"{_ascii(first)}.{_ascii(last)}{number}"
            domain = rng.choice(["exemple.fr", "courriel.fr", "mail.example.com", "boîte.fr"])
            email = f"{email_local}@{domain}"
            if rng.random() < 0.05:
                email = email.capitalize()  # shops keep addresses as typed
            gender = rng.choices([1, 2, 0, 3], weights=[40, 45, 10, 5])[0]
            dob = None
            if rng.random() > 0.3:
                dob = f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            self.add_customer(
                email=email,
                firstname=first if rng.random() > 0.02 else "",
                lastname=last,
                gender=gender,
                dob=dob,
                store_id=rng.choices([1, 2, 3], weights=[80, 15, 5])[0],
                is_subscribed=rng.random() < 0.35,
                created_at=created,
                updated_at=updated,
                address=address,
                prefix=rng.choice(["", "", "M.", "Mme"]) if gender in (0, 3) else "",
            )
        customer_ids = list(self.customers)
        order_count = int(count * orders_per_customer)
        states = [s for s in ORDER_STATES for _ in range(s[2])]
        for _index in range(order_count):
            lines = [
                (sku, name, rng.randrange(1, 4), price)
                for sku, name, price in rng.sample(PRODUCTS, rng.randrange(1, 4))
            ]
            state, status, _weight = rng.choice(states)
            if customer_ids and rng.random() > guests_ratio:
                customer = self.customers[rng.choice(customer_ids)]
                start = datetime.strptime(customer.created_at, TIME).replace(tzinfo=UTC)
                guest_email = None
            else:
                customer = None
                start = self.now - timedelta(seconds=two_years)
                reuse = customer_ids and rng.random() < 0.2
                guest_email = (
                    self.customers[rng.choice(customer_ids)].email.lower()
                    if reuse
                    else f"invite{rng.randrange(10**6)}@exemple.fr"
                )
            span = max(1, int((self.now - start).total_seconds()) - 3600)
            created = start + timedelta(seconds=rng.randrange(0, span))
            updated = created + timedelta(
                seconds=rng.randrange(
                    0, max(1, min(20 * 86400, int((self.now - created).total_seconds())))
                )
            )
            self.add_order(
                customer_id=customer.id if customer else None,
                email=guest_email,
                lines=lines,
                state=state,
                status=status,
                created_at=created,
                updated_at=updated,
                shipping=rng.choice([0.0, 4.9, 6.9]),
            )
        cart_count = count // 10 if carts is None else carts
        for _index in range(cart_count):
            if not customer_ids:
                break
            customer = self.customers[rng.choice(customer_ids)]
            active = rng.random() < 0.8
            updated = self.now - timedelta(seconds=rng.randrange(600, 20 * 86400))
            self.add_cart(
                customer_id=customer.id,
                lines=[
                    (sku, name, rng.randrange(1, 3), price)
                    for sku, name, price in rng.sample(PRODUCTS, rng.randrange(1, 4))
                ],
                is_active=active,
                updated_at=updated,
            )

    def add_customer(
        self,
        *,
        email,
        firstname="",
        lastname="",
        gender=0,
        dob=None,
        store_id=1,
        is_subscribed=False,
        created_at=None,
        updated_at=None,
        address=None,
        prefix="",
    ) -> Customer:
        with self.lock:
            customer_id = self._new_id("customers")
            created = created_at or self.now
            addresses = []
            if address:
                addresses = [{"id": customer_id * 10, **address}]
            customer = Customer(
                id=customer_id,
                email=email,
                firstname=firstname,
                lastname=lastname,
                gender=gender,
                dob=dob,
                store_id=store_id,
                is_subscribed=is_subscribed,
                created_at=self._time(created),
                updated_at=self._time(updated_at or created),
                addresses=addresses,
                prefix=prefix,
            )
            self.customers[customer_id] = customer
            self.customers_by_email[email.lower()] = customer_id
            self.index["customers"].touch()
            return customer

    def add_order(
        self,
        *,
        customer_id=None,
        email=None,
        lines,
        state="complete",
        status=None,
        created_at=None,
        updated_at=None,
        shipping=0.0,
        refunded=0.0,
        store_id=None,
        quote_id=None,
    ) -> Order:
        with self.lock:
            customer = self.customers.get(customer_id) if customer_id else None
            created = created_at or self.now
            order = Order(
                entity_id=self._new_id("orders"),
                customer_id=customer_id,
                email=email or (customer.email if customer else ""),
                firstname=customer.firstname if customer else "",
                lastname=customer.lastname if customer else "",
                created_at=self._time(created),
                updated_at=self._time(updated_at or created),
                state=state,
                status=status or state,
                lines=list(lines),
                shipping=shipping,
                store_id=store_id or (customer.store_id if customer else 1),
                quote_id=quote_id,
                refunded=refunded,
            )
            self.orders[order.entity_id] = order
            self.index["orders"].touch()
            if quote_id and quote_id in self.carts:
                cart = self.carts[quote_id]
                cart.is_active = False
                cart.updated_at = order.created_at
                self.index["carts"].touch()
            return order

    def add_cart(self, *, customer_id, lines, is_active=True, updated_at=None, store_id=None):
        with self.lock:
            customer = self.customers[customer_id]
            moment = updated_at or self.now
            cart = Cart(
                id=self._new_id("carts"),
                customer_id=customer_id,
                created_at=self._time(moment - timedelta(minutes=15)),
                updated_at=self._time(moment),
                is_active=is_active,
                lines=list(lines),
                store_id=store_id or customer.store_id,
            )
            self.carts[cart.id] = cart
            self.index["carts"].touch()
            return cart

    def update_customer(self, customer_id: int, *, at: datetime | None = None, **changes):
        """An admin save: the values change and updated_at moves."""
        with self.lock:
            customer = self.customers[customer_id]
            for name, value in changes.items():
                setattr(customer, name, value)
            customer.updated_at = self._time(at or datetime.now(UTC))
            self.index["customers"].touch()

    def set_subscription_from_storefront(self, customer_id: int, subscribed: bool):
        """The newsletter box of the storefront: newsletter_subscriber changes, the customer's
        updated_at does not (reference §A6)."""
        with self.lock:
            self.customers[customer_id].is_subscribed = subscribed

    def render_customer(self, customer: Customer) -> dict:
        addresses = [
            {
                "id": address["id"],
                "customer_id": customer.id,
                "region": {"region_code": None, "region": None, "region_id": 0},
                "region_id": 0,
                "country_id": address.get("country_id", "FR"),
                "street": address.get("street", []),
                "telephone": address.get("telephone", ""),
                "postcode": address.get("postcode", ""),
                "city": address.get("city", ""),
                "firstname": customer.firstname,
                "lastname": customer.lastname,
                "default_shipping": True,
                "default_billing": True,
            }
            for address in customer.addresses
        ]
        store = next((s for s in STORE_VIEWS if s["id"] == customer.store_id), STORE_VIEWS[0])
        item = {
            "id": customer.id,
            "group_id": 1,
            "created_at": customer.created_at,
            "updated_at": customer.updated_at,
            "created_in": store["name"],
            "email": customer.email,
            "firstname": customer.firstname,
            "lastname": customer.lastname,
            "store_id": customer.store_id,
            "website_id": 1,
            "addresses": addresses,
            "disable_auto_group_change": 0,
            "extension_attributes": {"is_subscribed": bool(customer.is_subscribed)},
        }
        if addresses:
            item["default_billing"] = item["default_shipping"] = str(addresses[0]["id"])
        # Missing fields are left out, as Magento does.
        if customer.dob:
            item["dob"] = customer.dob
        if customer.gender:
            item["gender"] = customer.gender
        if customer.prefix:
            item["prefix"] = customer.prefix
        return item

    def render_order(self, order: Order) -> dict:
        items = [
            {
                "item_id": order.entity_id * 10 + position,
                "sku": sku,
                "name": name,
                "qty_ordered": qty,
                "price": price,
                "row_total": round(qty * price, 2),
            }
            for position, (sku, name, qty, price) in enumerate(order.lines)
        ]
        total = order.grand_total
        customer = self.customers.get(order.customer_id) if order.customer_id else None
        telephone = ""
        if customer and customer.addresses:
            telephone = customer.addresses[0].get("telephone", "")
        return {
            "entity_id": order.entity_id,
            "increment_id": f"{order.entity_id:09d}",
            "state": order.state,
            "status": order.status,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "customer_id": order.customer_id,
            "customer_is_guest": 0 if order.customer_id else 1,
            "customer_email": order.email,
            "customer_firstname": order.firstname or None,
            "customer_lastname": order.lastname or None,
            "store_id": order.store_id,
            "quote_id": order.quote_id,
            "order_currency_code": "EUR",
            "base_currency_code": "EUR",
            "subtotal": order.subtotal,
            "shipping_amount": order.shipping,
            "tax_amount": round(total / 6, 2),
            "discount_amount": 0,
            "grand_total": total,
            "base_grand_total": total,
            "total_paid": total if order.state in ("complete", "processing", "closed") else 0,
            "total_refunded": order.refunded or (total if order.state == "closed" else 0),
            "base_total_refunded": order.refunded or (total if order.state == "closed" else 0),
            "total_item_count": len(items),
            "items": items,
            "billing_address": {
                "address_type": "billing",
                "firstname": order.firstname,
                "lastname": order.lastname,
                "email": order.email,
                "telephone": telephone,
            },
            "payment": {"method": "checkmo"},
            "status_histories": [],
        }

    def render_cart(self, cart: Cart) -> dict:
        customer = self.customers[cart.customer_id]
        # Inactive quotes come back without items (#19846).
        items = []
        if cart.is_active:
            items = [
                {
                    "item_id": cart.id * 10 + position,
                    "sku": sku,
                    "qty": qty,
                    "name": name,
                    "price": price,
                    "product_type": "simple",
                    "quote_id": str(cart.id),
                }
                for position, (sku, name, qty, price) in enumerate(cart.lines)
            ]
        return {
            "id": cart.id,
            "created_at": cart.created_at,
            "updated_at": cart.updated_at,
            "is_active": bool(cart.is_active),
            "is_virtual": False,
            "items": items,
            "items_count": len(items),
            "items_qty": sum(item["qty"] for item in items),
            "customer": {
                "id": customer.id,
                "email": customer.email,
                "firstname": customer.firstname,
                "lastname": customer.lastname,
                "store_id": customer.store_id,
                "website_id": 1,
            },
            "orig_order_id": 0,
            "currency": {"base_currency_code": "EUR", "quote_currency_code": "EUR"},
            "customer_is_guest": False,
            "store_id": cart.store_id,
        }


class Faults:
    """Failures to inject, by the test that wants them."""

    def __init__(self):
        self.fail_next: list[int] = []  # HTTP statuses to answer to the next requests
        self.malformed_paths: set[str] = set()  # e.g. {"orders"}: answer broken JSON
        self.retry_after: str | None = None
        self.delay_seconds = 0.0


class MagentoSimulator:
    """Serve a MagentoShop on loopback. `start()` runs it in a thread; `url` is its base."""

    def __init__(
        self,
        shop: MagentoShop,
        *,
        port: int = 0,
        consumer_key: str = "ck-simulator",
        consumer_secret: str = "cs-simulator",  # noqa: S107 - the simulator's own
        access_token: str = "at-simulator",  # noqa: S107
        access_token_secret: str = "ats-simulator",  # noqa: S107
        allow_bearer: bool = False,
        granted: frozenset[str] = ALL_RESOURCES,
        max_page_size: int | None = None,
    ):
        self.shop = shop
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.allow_bearer = allow_bearer
        self.granted = set(granted)
        self.max_page_size = max_page_size
        self.faults = Faults()
        self.request_count = 0
        self.serve_seconds = 0.0
        self.requests_log: list[tuple[str, str]] = []
        handler = type("Handler", (_Handler,), {"simulator": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "MagentoSimulator":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def authorized(self, method: str, url: str, headers) -> bool:
        header = headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.allow_bearer and header[7:] == self.access_token
        if not header.startswith("OAuth "):
            return False
        params = dict(utils.parse_authorization_header(header))
        if (
            params.get("oauth_consumer_key") != self.consumer_key
            or params.get("oauth_token") != self.access_token
        ):
            return False
        parts = urlsplit(url)
        collected = signature.collect_parameters(
            uri_query=parts.query, headers={"Authorization": header}, exclude_oauth_signature=True
        )
        base = signature.signature_base_string(
            method,
            signature.base_string_uri(f"{parts.scheme}://{parts.netloc}{parts.path}"),
            signature.normalize_parameters(collected),
        )
        method_name = params.get("oauth_signature_method")
        if method_name == "HMAC-SHA256":
            expected = signature.sign_hmac_sha256(
                base, self.consumer_secret, self.access_token_secret
            )
        elif method_name == "HMAC-SHA1":
            expected = signature.sign_hmac_sha1(
                base, self.consumer_secret, self.access_token_secret
            )
        else:
            return False
        given = utils.unescape(params.get("oauth_signature", ""))
        return signature.safe_string_equals(expected, given)


def _criteria(query: list[tuple[str, str]]):
    """searchCriteria[...] query parameters → (filter groups, sort orders, page size, page)."""
    groups: dict[int, dict[int, dict]] = {}
    sorts: dict[int, dict] = {}
    page_size, page = None, 1
    for name, value in query:
        if not name.startswith("searchCriteria"):
            continue
        keys = [part.rstrip("]") for part in name[len("searchCriteria[") :].split("[")]
        if keys[0] == "filter_groups" and len(keys) == 5:
            groups.setdefault(int(keys[1]), {}).setdefault(int(keys[3]), {})[keys[4]] = value
        elif keys[0] == "sortOrders" and len(keys) == 3:
            sorts.setdefault(int(keys[1]), {})[keys[2]] = value
        elif keys[0] == "pageSize":
            page_size = int(value)
        elif keys[0] == "currentPage":
            page = int(value)
    filter_groups = [list(filters.values()) for _g, filters in sorted(groups.items())]
    sort_orders = [order for _i, order in sorted(sorts.items())]
    return filter_groups, sort_orders, page_size, page


def _compare(actual, condition: str, value: str) -> bool:
    if condition in ("null", "notnull"):
        return (actual is None) == (condition == "null")
    if actual is None:
        return False
    if isinstance(actual, bool):
        actual = int(actual)
    if isinstance(actual, int | float):
        try:
            target = (
                [float(v) for v in value.split(",")] if condition in ("in", "nin") else float(value)
            )
        except ValueError:
            return False
    else:
        actual = str(actual)
        target = value.split(",") if condition in ("in", "nin") else value
    operations = {
        "eq": lambda: actual == target,
        "neq": lambda: actual != target,
        "gt": lambda: actual > target,
        "gteq": lambda: actual >= target,
        "from": lambda: actual >= target,
        "moreq": lambda: actual >= target,
        "lt": lambda: actual < target,
        "lteq": lambda: actual <= target,
        "to": lambda: actual <= target,
        "in": lambda: actual in target,
        "nin": lambda: actual not in target,
        "like": lambda: str(target).strip("%").lower() in str(actual).lower(),
    }
    operation = operations.get(condition or "eq")
    return bool(operation and operation())


ENTITY_ROUTES = {
    "customers/search": ("customers", RESOURCES["customers"]),
    "orders": ("orders", RESOURCES["orders"]),
    "carts/search": ("carts", RESOURCES["carts"]),
}
ATTRIBUTES = {
    "customers": {"entity_id": "id", "id": "id", "email": "email", "store_id": "store_id"},
    "orders": {"entity_id": "entity_id", "customer_id": "customer_id", "state": "state",
               "store_id": "store_id", "quote_id": "quote_id", "customer_email": "email"},
    "carts": {"entity_id": "id", "id": "id", "customer_id": "customer_id",
              "is_active": "is_active", "store_id": "store_id"},
}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    simulator: MagentoSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    def _send(self, status: int, payload=None, raw: bytes | None = None, headers=None):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def _dispatch(self, method: str):
        simulator = self.simulator
        started = time.perf_counter()
        simulator.request_count += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            self._route(method, body)
        finally:
            simulator.serve_seconds += time.perf_counter() - started

    def _route(self, method: str, body: bytes):
        simulator = self.simulator
        faults = simulator.faults
        if faults.delay_seconds:
            time.sleep(faults.delay_seconds)
        if faults.fail_next:
            status = faults.fail_next.pop(0)
            headers = {"Retry-After": faults.retry_after} if faults.retry_after else None
            self._send(status, {"message": "Service temporarily unavailable"}, headers=headers)
            return
        parts = urlsplit(self.path)
        path = parts.path
        if not path.startswith("/rest/"):
            self._send(404, {"message": "Request does not match any route."})
            return
        segments = path[len("/rest/") :].split("/")
        if segments[0] == "V1":
            store_code, route = "default", "/".join(segments[1:])
        else:
            store_code, route = segments[0], "/".join(segments[2:])
            if segments[1:2] != ["V1"]:
                self._send(404, {"message": "Request does not match any route."})
                return
        simulator.requests_log.append((method, route))
        if store_code not in {"all", *(view["code"] for view in STORE_VIEWS)}:
            self._send(
                400,
                {
                    "message": "The store that was requested wasn't found. Verify the store and try again."
                },
            )
            return
        if route == "store/storeViews":
            admin = {
                "id": 0,
                "code": "admin",
                "name": "Admin",
                "website_id": 0,
                "store_group_id": 0,
            }
            self._send(200, [admin, *STORE_VIEWS])
            return
        full_url = f"http://{self.headers.get('Host')}{self.path}"
        if route in ENTITY_ROUTES:
            entity, resource = ENTITY_ROUTES[route]
            if not self._allowed(method, full_url, resource):
                return
            if entity in faults.malformed_paths:
                self._send(200, raw=b'{"items": [{"id": 1, "email": "broken')
                return
            self._search(entity, parse_qsl(parts.query, keep_blank_values=True))
            return
        if route.startswith("customers/") and route.split("/")[1].isdigit():
            resource = RESOURCES["customers"] if method == "GET" else RESOURCES["customer_write"]
            if not self._allowed(method, full_url, resource):
                return
            self._customer(method, int(route.split("/")[1]), body)
            return
        self._send(404, {"message": "Request does not match any route."})

    def _allowed(self, method: str, url: str, resource: str) -> bool:
        simulator = self.simulator
        if simulator.authorized(method, url, self.headers) and resource in simulator.granted:
            return True
        self._send(
            401,
            {
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": resource},
            },
        )
        return False

    def _search(self, entity: str, query):
        simulator, shop = self.simulator, self.simulator.shop
        groups, sorts, page_size, page = _criteria(query)
        since, strict = None, False
        other_groups = []
        for filters in groups:
            if (
                len(filters) == 1
                and filters[0].get("field") == "updated_at"
                and filters[0].get("condition_type") in ("gteq", "gt", "from")
            ):
                since, strict = filters[0].get("value"), filters[0].get("condition_type") == "gt"
            else:
                other_groups.append(filters)
        rows = {"customers": shop.customers, "orders": shop.orders, "carts": shop.carts}[entity]
        attributes = ATTRIBUTES[entity]
        keys = shop.index[entity].from_time(since, strict)
        if other_groups:
            selected = []
            for updated, row_id in keys:
                row = rows[row_id]
                if all(
                    any(
                        _compare(
                            updated
                            if f.get("field") == "updated_at"
                            else getattr(row, attributes.get(f.get("field"), "_"), None),
                            f.get("condition_type", "eq"),
                            f.get("value", ""),
                        )
                        for f in filters
                    )
                    for filters in other_groups
                ):
                    selected.append((updated, row_id))
            keys = selected
        if sorts and sorts[0].get("direction", "ASC").upper() == "DESC":
            keys = list(reversed(keys))
        total = len(keys)
        if simulator.max_page_size and (page_size is None or page_size > simulator.max_page_size):
            page_size = simulator.max_page_size
        page = max(page, 1)  # currentPage 0 behaves like 1 (#25619)
        if page_size:
            last_page = max(1, -(-total // page_size))
            # Past the end, Magento serves the last page again (#3787, #26986).
            page = min(page, last_page)
            window = keys[(page - 1) * page_size : page * page_size]
        else:
            window = keys
        render = {
            "customers": shop.render_customer,
            "orders": shop.render_order,
            "carts": shop.render_cart,
        }[entity]
        with shop.lock:
            items = [render(rows[row_id]) for _updated, row_id in window if row_id in rows]
        criteria = {
            "filter_groups": [{"filters": filters} for filters in groups],
            "current_page": page,
        }
        if sorts:
            criteria["sort_orders"] = sorts
        if page_size:
            criteria["page_size"] = page_size
        self._send(200, {"items": items, "search_criteria": criteria, "total_count": total})

    def _customer(self, method: str, customer_id: int, body: bytes):
        shop = self.simulator.shop
        customer = shop.customers.get(customer_id)
        if customer is None:
            self._send(
                404,
                {
                    "message": "No such entity with %fieldName = %fieldValue",
                    "parameters": {"fieldName": "customerId", "fieldValue": customer_id},
                },
            )
            return
        if method == "PUT":
            try:
                data = json.loads(body)["customer"]
            except (ValueError, KeyError, TypeError):
                self._send(400, {"message": "Decoding error: malformed body"})
                return
            changes = {}
            for name in ("firstname", "lastname", "dob", "gender", "email", "prefix"):
                if name in data:
                    changes[name] = data[name]
            if "addresses" in data and data["addresses"] is not None:
                # [] deletes every address; null or absent leaves them (CustomerRepository::save).
                changes["addresses"] = [
                    {"id": address.get("id") or customer_id * 10 + i, **address}
                    for i, address in enumerate(data["addresses"])
                ]
            subscribed = (data.get("extension_attributes") or {}).get("is_subscribed")
            if subscribed is not None:
                changes["is_subscribed"] = bool(subscribed)
            shop.update_customer(customer_id, **changes)
        with shop.lock:
            self._send(200, shop.render_customer(customer))
