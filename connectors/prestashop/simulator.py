"""A loopback PrestaShop Webservice shop, for tests, demos and the bench (shop-apis.md §B, §C).

`PrestaShopShop` generates a French shop from a seed: customers (guests included, groups,
newsletter flags, unicode names, `0000-00-00` birthdays), their addresses, orders in every
state, carts (abandoned or turned into an order), products, one or several shops, and the guest
newsletter subscribers of the Sendethic module's webservice resource. Rows are small slotted
objects; JSON or XML is rendered per page.

`PrestaShopSimulator` serves it with the real shapes and quirks, and version toggles that force
the client to handle each of them:
- `json_output=False` (1.6): `output_format=JSON` is ignored, everything is XML;
- `int_types=False` (1.6/1.7): every number is a string; True (8): int columns are ints;
- `empty="bare"`: an empty list is `[]` (1.7.x); `"wrapped"`: `{"customers": []}`;
- key as Basic user (empty password) or `ws_key`; plain-text 401 without credentials, the
  `{"errors": [...]}` bodies otherwise (codes 18, 20/21, 26, 25); per-resource, per-method
  permissions;
- `date=1` required to filter or sort on date_add/date_upd (400 code 32 otherwise);
  `filter[f]=[v]`, `[a|b]`, `[a,b]` inclusive, `>[v]`, `<[v]`; `sort=[f_ASC,g_DESC]`;
  `limit=n` or `limit=offset,count`; no total anywhere;
- dates in the shop's time zone (`PS_TIMEZONE`), unset ones `0000-00-00 00:00:00`;
- customers, orders and carts restricted to the context shop (`id_shop=<id>`, default shop
  without it, `id_shop=all` for every shop);
- single GET wrapped in the singular (`{"customer": {...}}`); XML-only PUT that sets every
  omitted optional field to NULL and refuses a document without a required one (code 41).
"""

import bisect
import json
import random
import threading
import time
import unicodedata
import zoneinfo
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

from connectors.magento.simulator import CITIES, FIRST_NAMES, LAST_NAMES, PRODUCTS

TIME = "%Y-%m-%d %H:%M:%S"
NO_DATE = "0000-00-00 00:00:00"
SIMULATOR_KEY = "SENDETHICSIMULATORKEY00000000000"  # 32 characters, as PrestaShop requires
SHOP_TIME_ZONE = "Europe/Paris"
SHOPS = [
    {"id": 1, "id_shop_group": 1, "name": "Boutique France", "active": 1},
    {"id": 2, "id_shop_group": 1, "name": "Boutique Belgique", "active": 1},
    {"id": 3, "id_shop_group": 2, "name": "Outlet", "active": 1},
]
# PrestaShop's default order states (id, name, paid, shipped, delivery). `delivery` means "show
# the delivery slip", set from preparation on: the delivered state is PS_OS_DELIVERED.
ORDER_STATES = [
    (1, "En attente du paiement par chèque", 0, 0, 0),
    (2, "Paiement accepté", 1, 0, 0),
    (3, "En cours de préparation", 1, 0, 1),
    (4, "Expédié", 1, 1, 1),
    (5, "Livré", 1, 1, 1),
    (6, "Annulé", 0, 0, 0),
    (7, "Remboursé", 1, 0, 0),
    (8, "Erreur de paiement", 0, 0, 0),
    (10, "En attente de virement bancaire", 0, 0, 0),
]
STATE_WEIGHTS = {1: 3, 2: 10, 3: 8, 4: 10, 5: 50, 6: 8, 7: 5, 8: 2, 10: 4}
CONFIGURATION = {
    "PS_TIMEZONE": SHOP_TIME_ZONE,
    "PS_OS_CANCELED": "6",
    "PS_OS_REFUND": "7",
    "PS_OS_ERROR": "8",
    "PS_OS_DELIVERED": "5",
}
# Resources and the methods a full key may use on them.
ALL_PERMISSIONS = {
    "customers": {"GET", "PUT", "HEAD"},
    "addresses": {"GET", "HEAD"},
    "orders": {"GET", "HEAD"},
    "order_states": {"GET", "HEAD"},
    "order_histories": {"GET", "HEAD"},
    "carts": {"GET", "HEAD"},
    "products": {"GET", "HEAD"},
    "groups": {"GET", "HEAD"},
    "shops": {"GET", "HEAD"},
    "shop_groups": {"GET", "HEAD"},
    "configurations": {"GET", "HEAD"},
    "sendethic_subscribers": {"GET", "PUT", "HEAD"},
}
SINGULAR = {
    "customers": "customer", "addresses": "address", "orders": "order",
    "order_states": "order_state", "order_histories": "order_history", "carts": "cart", "products": "product", "groups": "group",
    "shops": "shop", "shop_groups": "shop_group", "configurations": "configuration",
    "sendethic_subscribers": "sendethic_subscriber",
}  # fmt: skip
# Columns a filter or sort on needs `date=1` for.
DATE_COLUMNS = {"date_add", "date_upd"}
INT_COLUMNS = {
    "id", "id_shop", "id_shop_group", "id_gender", "id_default_group", "id_lang", "deleted",
    "newsletter", "optin", "active", "is_guest", "id_customer", "id_cart", "id_currency",
    "current_state", "valid", "id_address_delivery", "id_address_invoice", "id_carrier",
    "id_guest", "paid", "shipped", "delivery", "id_country", "show_public_prices", "id_risk",
    "max_payment_days", "id_order", "id_order_state", "id_employee",
}  # fmt: skip
CUSTOMER_FIELDS = [
    "id", "id_default_group", "id_lang", "newsletter_date_add", "ip_registration_newsletter",
    "last_passwd_gen", "secure_key", "deleted", "passwd", "lastname", "firstname", "email",
    "id_gender", "birthday", "newsletter", "optin", "website", "company", "siret", "ape",
    "outstanding_allow_amount", "show_public_prices", "id_risk", "max_payment_days", "active",
    "note", "is_guest", "id_shop", "id_shop_group", "date_add", "date_upd",
    "reset_password_token", "reset_password_validity",
]  # fmt: skip
REQUIRED_CUSTOMER_FIELDS = ("lastname", "firstname", "email", "passwd")
# Fields a PUT may not null (the shop keeps or recomputes them).
KEPT_ON_PUT = {"id", "date_add", "date_upd", "id_shop", "id_shop_group", "secure_key"}


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in ".-")


class Row:
    """A record as PrestaShop stores it: column → Python value (UTC datetimes for dates)."""

    __slots__ = ("values", "groups", "lines")

    def __init__(self, values: dict, groups=None, lines=None):
        self.values = values
        self.groups = groups or []
        self.lines = lines or []

    def __getitem__(self, name):
        return self.values.get(name)


class SortedIndex:
    """(date_upd, id) of one resource, sorted lazily after writes."""

    def __init__(self, rows: dict):
        self.rows = rows
        self.keys: list[tuple[datetime, int]] = []
        self.dirty = True
        self.lock = threading.Lock()

    def touch(self):
        self.dirty = True

    def sorted_keys(self):
        with self.lock:
            if self.dirty:
                self.keys = sorted((row["date_upd"], row["id"]) for row in self.rows.values())
                self.dirty = False
            return self.keys


class PrestaShopShop:
    """The shop's data, generated from a seed."""

    def __init__(
        self,
        *,
        customers: int = 100,
        orders_per_customer: float = 2.0,
        carts: int | None = None,
        guest_subscribers: int | None = None,
        multistore: bool = False,
        seed: int = 1,
        now: datetime | None = None,
        time_zone: str = SHOP_TIME_ZONE,
    ):
        self.seed = seed
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.configuration = dict(CONFIGURATION, PS_TIMEZONE=time_zone)
        self.configuration["PS_MULTISHOP_FEATURE_ACTIVE"] = "1" if multistore else "0"
        self.shops = SHOPS if multistore else SHOPS[:1]
        self.tables: dict[str, dict[int, Row]] = {
            name: {} for name in ("customers", "addresses", "orders", "carts",
                                  "sendethic_subscribers")
        }  # fmt: skip
        self.index = {name: SortedIndex(self.tables[name]) for name in self.tables}
        self.addresses_by_customer: dict[int, list[int]] = {}
        self.orders_by_cart: dict[int, int] = {}
        # Order histories, light: id_order → [(id, id_order_state, date_add UTC)].
        self.histories: dict[int, list[tuple[int, int, datetime]]] = {}
        self._next_history = 1
        self.products = {
            number: {"id": number, "reference": sku, "name": name, "price": price}
            for number, (sku, name, price) in enumerate(PRODUCTS, start=1)
        }
        self.lock = threading.RLock()
        self._next = dict.fromkeys(self.tables, 1)
        self._generate(customers, orders_per_customer, carts, guest_subscribers)

    # -- writes ---------------------------------------------------------------------------
    def _new_id(self, table: str) -> int:
        value = self._next[table]
        self._next[table] += 1
        return value

    def _put(self, table: str, row: Row) -> Row:
        self.tables[table][row["id"]] = row
        self.index[table].touch()
        return row

    def add_customer(
        self,
        *,
        email,
        firstname="",
        lastname="",
        id_gender=0,
        birthday=None,
        newsletter=False,
        id_shop=1,
        groups=(3,),
        is_guest=False,
        created_at=None,
        updated_at=None,
        address=None,
        company="",
        note=None,
    ) -> Row:
        with self.lock:
            number = self._new_id("customers")
            created = created_at or self.now
            shop = next(s for s in SHOPS if s["id"] == id_shop)
            values = {
                "id": number,
                "id_default_group": groups[0] if groups else 3,
                "id_lang": 1,
                "newsletter_date_add": created if newsletter else None,
                "ip_registration_newsletter": "203.0.113.7" if newsletter else "",
                "last_passwd_gen": created,
                "secure_key": f"{number:032x}",
                "deleted": 0,
                "passwd": f"$2y$10$simulated.hash.of.customer.{number:010d}",
                "lastname": lastname,
                "firstname": firstname,
                "email": email,
                "id_gender": id_gender,
                "birthday": birthday,
                "newsletter": int(bool(newsletter)),
                "optin": 0,
                "website": "",
                "company": company,
                "siret": "",
                "ape": "",
                "outstanding_allow_amount": "0.000000",
                "show_public_prices": 0,
                "id_risk": 0,
                "max_payment_days": 0,
                "active": 1,
                "note": note,
                "is_guest": int(bool(is_guest)),
                "id_shop": id_shop,
                "id_shop_group": shop["id_shop_group"],
                "date_add": created,
                "date_upd": updated_at or created,
                "reset_password_token": "",
                "reset_password_validity": None,
            }
            customer = self._put("customers", Row(values, groups=list(groups)))
            if address:
                self.add_address(customer_id=number, **address)
            return customer

    def add_address(self, *, customer_id, phone="", phone_mobile="", postcode="", city="",
                    id_country=8, deleted=0) -> Row:  # fmt: skip
        with self.lock:
            customer = self.tables["customers"][customer_id]
            number = self._new_id("addresses")
            row = Row(
                {
                    "id": number,
                    "id_customer": customer_id,
                    "id_country": id_country,
                    "alias": "Mon adresse",
                    "lastname": customer["lastname"],
                    "firstname": customer["firstname"],
                    "address1": "12 rue de la République",
                    "postcode": postcode,
                    "city": city,
                    "phone": phone,
                    "phone_mobile": phone_mobile,
                    "deleted": deleted,
                    "date_add": customer["date_add"],
                    "date_upd": customer["date_add"],
                }  # fmt: skip
            )
            self.addresses_by_customer.setdefault(customer_id, []).append(number)
            return self._put("addresses", row)

    def add_order(self, *, customer_id, lines, state=5, shipping=0.0, created_at=None,
                  updated_at=None, cart_id=None, id_shop=None) -> Row:  # fmt: skip
        with self.lock:
            customer = self.tables["customers"][customer_id]
            number = self._new_id("orders")
            created = created_at or self.now
            products = round(sum(qty * price for _sku, _name, qty, price in lines), 2)
            total = round(products + shipping, 2)
            shop = id_shop or customer["id_shop"]
            row = Row(
                {
                    "id": number,
                    "reference": f"SIM{number:06d}",
                    "id_customer": customer_id,
                    "id_cart": cart_id or 0,
                    "id_currency": 1,
                    "id_lang": 1,
                    "id_carrier": 2,
                    "current_state": state,
                    "module": "ps_wirepayment",
                    "payment": "Virement bancaire",
                    "valid": int(state in (2, 3, 4, 5)),
                    "delivery_date": created if state in (3, 4, 5) else None,
                    "total_paid": total,
                    "total_paid_tax_incl": total,
                    "total_paid_tax_excl": round(total / 1.2, 2),
                    "total_paid_real": total if state in (2, 3, 4, 5, 7) else 0.0,
                    "total_products": round(products / 1.2, 2),
                    "total_products_wt": products,
                    "total_shipping": shipping,
                    "total_discounts": 0.0,
                    "conversion_rate": 1.0,
                    "id_shop": shop,
                    "id_shop_group": next(s for s in SHOPS if s["id"] == shop)["id_shop_group"],
                    "date_add": created,
                    "date_upd": updated_at or created,
                },  # fmt: skip
                lines=list(lines),
            )
            if cart_id:
                self.orders_by_cart[cart_id] = number
            self._history(number, state, created)
            if state == 5 and updated_at:
                self._history(number, 5, updated_at)
            return self._put("orders", row)

    def _history(self, order_id: int, state: int, moment: datetime) -> None:
        self.histories.setdefault(order_id, []).append((self._next_history, state, moment))
        self._next_history += 1

    def add_cart(self, *, customer_id, lines, updated_at=None, id_shop=None) -> Row:
        with self.lock:
            customer = self.tables["customers"][customer_id]
            number = self._new_id("carts")
            moment = updated_at or self.now
            shop = id_shop or customer["id_shop"]
            products = {sku: pid for pid, p in self.products.items() for sku in [p["reference"]]}
            row = Row(
                {
                    "id": number,
                    "id_customer": customer_id,
                    "id_guest": customer_id,
                    "id_currency": 1,
                    "id_lang": 1,
                    "id_carrier": 2,
                    "id_shop": shop,
                    "id_shop_group": next(s for s in SHOPS if s["id"] == shop)["id_shop_group"],
                    "id_address_delivery": 0,
                    "id_address_invoice": 0,
                    "secure_key": customer["secure_key"],
                    "date_add": moment - timedelta(minutes=15),
                    "date_upd": moment,
                },  # fmt: skip
                lines=[(products[sku], qty) for sku, _name, qty, _price in lines],
            )
            return self._put("carts", row)

    def add_guest_subscriber(self, *, email, id_shop=1, active=True, subscribed_at=None) -> Row:
        with self.lock:
            number = self._new_id("sendethic_subscribers")
            moment = subscribed_at or self.now
            row = Row(
                {
                    "id": number,
                    "id_shop": id_shop,
                    "email": email,
                    "active": int(active),
                    "newsletter_date_add": moment,
                    "ip_registration_newsletter": "198.51.100.4",
                    "date_add": moment,
                    "date_upd": moment,
                }  # fmt: skip
            )
            return self._put("sendethic_subscribers", row)

    def update_customer(self, customer_id: int, *, at: datetime | None = None, **changes):
        """A back-office save: the values change and date_upd moves."""
        with self.lock:
            customer = self.tables["customers"][customer_id]
            customer.values.update(changes)
            customer.values["date_upd"] = (at or datetime.now(UTC)).replace(microsecond=0)
            self.index["customers"].touch()

    def set_order_state(self, order_id: int, state: int, *, at: datetime | None = None):
        with self.lock:
            order = self.tables["orders"][order_id]
            moment = (at or datetime.now(UTC)).replace(microsecond=0)
            order.values.update(current_state=state, date_upd=moment)
            if state in (3, 4, 5) and order["delivery_date"] is None:
                order.values["delivery_date"] = moment  # the delivery slip's date
            self._history(order_id, state, moment)
            self.index["orders"].touch()

    # -- generation -----------------------------------------------------------------------
    def _generate(self, count, orders_per_customer, carts, guest_subscribers):
        rng = random.Random(self.seed)
        two_years = 730 * 86400
        shop_ids = [shop["id"] for shop in self.shops]
        shop_weights = [80, 15, 5][: len(shop_ids)]
        for number in range(1, count + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = self.now - timedelta(seconds=rng.randrange(86400, two_years))
            updated = created + timedelta(
                seconds=rng.randrange(0, int((self.now - created).total_seconds()))
            )
            zip_code, city = rng.choice(CITIES)
            address = None
            if rng.random() > 0.1:
                draw = rng.random()
                address = {
                    "phone_mobile": f"06{rng.randrange(10**8):08d}" if draw < 0.6 else "",
                    "phone": f"01{rng.randrange(10**8):08d}" if draw >= 0.6 else "",
                    "postcode": zip_code,
                    "city": city,
                    "id_country": 3 if zip_code == "1000" else 8,
                }
            domain = rng.choice(["exemple.fr", "courriel.fr", "mail.example.com", "boîte.fr"])
            email = f"{_ascii(first)}.{_ascii(last)}{number}@{domain}"
            if rng.random() < 0.05:
                email = email.capitalize()
            birthday = None
            if rng.random() > 0.3:
                birthday = f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            self.add_customer(
                email=email,
                firstname=first if rng.random() > 0.02 else "",
                lastname=last,
                id_gender=rng.choices([1, 2, 0], weights=[45, 45, 10])[0],
                birthday=birthday,
                newsletter=rng.random() < 0.35,
                id_shop=rng.choices(shop_ids, weights=shop_weights)[0],
                groups=rng.choice([(3,), (3,), (3, 4), (2,)]),
                is_guest=rng.random() < 0.08,
                created_at=created,
                updated_at=updated,
                address=address,
            )
        customer_ids = list(self.tables["customers"])
        states = [state for state, weight in STATE_WEIGHTS.items() for _ in range(weight)]
        for _index in range(int(count * orders_per_customer)):
            customer = self.tables["customers"][rng.choice(customer_ids)]
            start = customer["date_add"]
            span = max(1, int((self.now - start).total_seconds()) - 3600)
            created = start + timedelta(seconds=rng.randrange(0, span))
            updated = created + timedelta(
                seconds=rng.randrange(
                    0, max(1, min(20 * 86400, int((self.now - created).total_seconds())))
                )
            )
            self.add_order(
                customer_id=customer["id"],
                lines=[
                    (sku, name, rng.randrange(1, 4), price)
                    for sku, name, price in rng.sample(PRODUCTS, rng.randrange(1, 4))
                ],
                state=rng.choice(states),
                shipping=rng.choice([0.0, 4.9, 6.9]),
                created_at=created,
                updated_at=updated,
            )
        for _index in range(count // 10 if carts is None else carts):
            if not customer_ids:
                break
            customer = self.tables["customers"][rng.choice(customer_ids)]
            lines = [
                (sku, name, rng.randrange(1, 3), price)
                for sku, name, price in rng.sample(PRODUCTS, rng.randrange(1, 4))
            ]
            updated = self.now - timedelta(seconds=rng.randrange(600, 20 * 86400))
            cart = self.add_cart(customer_id=customer["id"], lines=lines, updated_at=updated)
            if rng.random() < 0.3:  # ordered: no longer abandoned
                self.add_order(customer_id=customer["id"], lines=lines, state=2,
                               created_at=updated + timedelta(minutes=5), cart_id=cart["id"])  # fmt: skip
        for number in range(count // 20 if guest_subscribers is None else guest_subscribers):
            self.add_guest_subscriber(
                email=f"lecteur{number}@exemple.fr",
                id_shop=rng.choices(shop_ids, weights=shop_weights)[0],
                subscribed_at=self.now - timedelta(seconds=rng.randrange(3600, two_years)),
            )

    # -- rendering ------------------------------------------------------------------------
    def local(self, moment: datetime | None, *, day_only=False) -> str:
        if moment is None:
            return "0000-00-00" if day_only else NO_DATE
        return moment.astimezone(self.tz).strftime("%Y-%m-%d" if day_only else TIME)

    def parse_local(self, value: str) -> datetime | None:
        if not value or value.startswith("0000"):
            return None
        return datetime.strptime(value[:19], TIME).replace(tzinfo=self.tz).astimezone(UTC)

    def raw(self, resource: str, row: Row) -> dict:
        """The record's columns as PrestaShop renders them (before typing)."""
        values = dict(row.values)
        for name, value in values.items():
            if isinstance(value, datetime) or (
                value is None and name in ("newsletter_date_add", "delivery_date",
                                           "reset_password_validity", "last_passwd_gen")
            ):  # fmt: skip
                values[name] = self.local(value)
        if resource == "customers":
            values["birthday"] = row["birthday"] or "0000-00-00"
            values["note"] = row["note"] or ""
            values["associations"] = {"groups": [{"id": group} for group in row.groups]}
        elif resource == "orders":
            for name in ("total_paid", "total_paid_tax_incl", "total_paid_tax_excl",
                         "total_paid_real", "total_products", "total_products_wt",
                         "total_shipping", "total_discounts", "conversion_rate"):  # fmt: skip
                values[name] = f"{row[name]:.6f}"
            values["associations"] = {
                "order_rows": [
                    {
                        "id": row["id"] * 10 + n,
                        "product_reference": sku,
                        "product_name": name,
                        "product_quantity": qty,
                        "product_price": f"{price:.6f}",
                    }  # fmt: skip
                    for n, (sku, name, qty, price) in enumerate(row.lines)
                ]
            }
        elif resource == "carts":
            values["associations"] = {
                "cart_rows": [
                    {
                        "id_product": product,
                        "id_product_attribute": 0,
                        "id_address_delivery": 0,
                        "id_customization": 0,
                        "quantity": qty,
                    }  # fmt: skip
                    for product, qty in row.lines
                ]
            }
        return values


class Faults:
    def __init__(self):
        self.fail_next: list[int] = []  # HTTP statuses for the next requests
        self.webservice_disabled = False


def _typed(value, name: str, int_types: bool):
    """PrestaShop 8 renders int columns as ints; 1.6/1.7 render every value as a string."""
    if isinstance(value, dict):
        return {k: _typed(v, k, int_types) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(item, name, int_types) for item in value]
    if int_types and name in INT_COLUMNS and isinstance(value, int):
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _xml_value(name: str, value) -> str:
    if isinstance(value, dict):
        return f"<{name}>{''.join(_xml_value(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        singular = name[:-1] if name.endswith("s") else name
        if name in ("order_rows", "cart_rows"):
            singular = name[:-1]
        inner = "".join(_xml_value(singular, item) for item in value)
        return f'<{name} nodeType="{singular}" api="{name}">{inner}</{name}>'
    text = "" if value is None else str(value)
    return f"<{name}><![CDATA[{text.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>"


def _xml_document(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">{inner}</prestashop>'
    ).encode()


class PrestaShopSimulator:
    """Serve a PrestaShopShop on loopback. `start()` runs it in a thread; `url` is its base."""

    VERSIONS = {
        "1.6": {"json_output": False, "int_types": False, "empty": "bare"},
        "1.7": {"json_output": True, "int_types": False, "empty": "bare"},
        "8": {"json_output": True, "int_types": True, "empty": "wrapped"},
    }

    def __init__(
        self,
        shop: PrestaShopShop,
        *,
        port: int = 0,
        key: str = SIMULATOR_KEY,
        version: str = "8",
        json_output: bool | None = None,
        int_types: bool | None = None,
        empty: str | None = None,
        permissions: dict[str, set[str]] | None = None,
        module_installed: bool = True,
    ):
        preset = self.VERSIONS[version]
        self.shop = shop
        self.key = key
        self.version = version
        self.json_output = preset["json_output"] if json_output is None else json_output
        self.int_types = preset["int_types"] if int_types is None else int_types
        self.empty = empty or preset["empty"]
        self.permissions = {
            name: set(methods) for name, methods in (permissions or ALL_PERMISSIONS).items()
        }
        if not module_installed:
            self.permissions.pop("sendethic_subscribers", None)
        self.module_installed = module_installed
        self.faults = Faults()
        self.request_count = 0
        self.serve_seconds = 0.0
        self.requests_log: list[tuple[str, str, str]] = []
        handler = type("Handler", (_Handler,), {"simulator": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "PrestaShopSimulator":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BadRequest(Exception):
    def __init__(self, status: int, code: int, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def _parse_filter(raw: str):
    """`[v]`, `[a|b]`, `[a,b]`, `>[v]`, `<[v]`, `![v]` → (operation, values)."""
    operation = "eq"
    if raw[:1] in "<>!":
        operation, raw = {"<": "lt", ">": "gt", "!": "ne"}[raw[0]], raw[1:]
    if not (raw.startswith("[") and raw.endswith("]")):
        return "eq", [raw]
    inner = raw[1:-1]
    if operation == "eq" and "|" in inner:
        return "in", inner.split("|")
    if operation == "eq" and "," in inner:
        low, high = sorted(inner.split(",", 1))
        return "between", [low, high]
    return operation, [inner]


def _matches(value, operation: str, targets: list[str]) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            numbers = [float(t) for t in targets]
        except ValueError:
            return False
        value, targets = float(value), numbers
    else:
        value = "" if value is None else str(value)
    if operation == "eq":
        return value == targets[0]
    if operation == "in":
        return value in targets
    if operation == "between":
        return targets[0] <= value <= targets[1]
    if operation == "gt":
        return value > targets[0]
    if operation == "lt":
        return value < targets[0]
    return value != targets[0]


class _Handler(BaseHTTPRequestHandler):
    simulator: PrestaShopSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str):
        simulator = self.simulator
        started = time.perf_counter()
        simulator.request_count += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qsl(urlsplit(self.path).query, keep_blank_values=True)
        self.params = dict(query)
        self.json = simulator.json_output and (
            self.params.get("output_format", "").upper() == "JSON"
            or self.headers.get("Output-Format", "").upper() == "JSON"
            or self.headers.get("Io-Format", "").upper() == "JSON"
        )
        try:
            self._route(method, body, query)
        except BadRequest as error:
            self._errors(error.status, [(error.code, error.message)])
        finally:
            simulator.serve_seconds += time.perf_counter() - started

    # -- answers --------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("PSWS-Version", {"1.6": "1.6.1.24", "1.7": "1.7.8.11"}.get(
            self.simulator.version, "8.1.7"))  # fmt: skip
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _errors(self, status: int, errors: list[tuple[int, str]]):
        if self.json:
            payload = {"errors": [{"code": code, "message": message} for code, message in errors]}
            self._send(status, json.dumps(payload).encode(), "application/json")
            return
        inner = "".join(
            f"<error><code><![CDATA[{code}]]></code><message><![CDATA[{message}]]></message></error>"
            for code, message in errors
        )
        self._send(status, _xml_document(f"<errors>{inner}</errors>"), "text/xml;charset=utf-8")

    def _list(self, resource: str, records: list[dict]):
        simulator = self.simulator
        singular = SINGULAR[resource]
        typed = [_typed(record, "", simulator.int_types) for record in records]
        if self.json:
            # PrestaShop 1.7: an empty list is a bare [] (#10172); later: {"customers": []}.
            payload = [] if not typed and simulator.empty == "bare" else {resource: typed}
            self._send(200, json.dumps(payload, ensure_ascii=False).encode(), "application/json")
            return
        inner = "".join(_xml_value(singular, record) for record in typed)
        self._send(
            200, _xml_document(f"<{resource}>{inner}</{resource}>"), "text/xml;charset=utf-8"
        )

    def _single(self, resource: str, record: dict):
        typed = _typed(record, "", self.simulator.int_types)
        singular = SINGULAR[resource]
        if self.json:
            body = json.dumps({singular: typed}, ensure_ascii=False).encode()
            self._send(200, body, "application/json")
            return
        self._send(200, _xml_document(_xml_value(singular, typed)), "text/xml;charset=utf-8")

    # -- routing --------------------------------------------------------------------------
    def _authorized_key(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            import base64

            try:
                user = base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                return ""
            return user
        return self.params.get("ws_key")

    def _route(self, method: str, body: bytes, query):
        simulator = self.simulator
        faults = simulator.faults
        if faults.fail_next:
            status = faults.fail_next.pop(0)
            self._send(status, b"Service Unavailable", "text/plain")
            return
        path = urlsplit(self.path).path.rstrip("/")
        if not path.startswith("/api"):
            self._send(404, b"Not Found", "text/html")
            return
        parts = [part for part in path[len("/api") :].split("/") if part]
        simulator.requests_log.append((method, "/".join(parts), urlsplit(self.path).query))
        if faults.webservice_disabled:
            self._errors(503, [(22, "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office")])  # fmt: skip
            return
        key = self._authorized_key()
        if key is None:
            self._send(
                401,
                b"401 Unauthorized",
                "text/html",
                headers={"WWW-Authenticate": 'Basic realm="Welcome to PrestaShop Webservice, '
                         'please enter the authentication key as the login. No password required."'},
            )  # fmt: skip
            return
        if len(key) != 32:
            self._errors(401, [(18, "Invalid authentication key format")])
            return
        if key != simulator.key:
            self._errors(401, [(20, "Authentification key is not active"),
                               (21, "No permission for this authentication key")])  # fmt: skip
            return
        if not parts:
            self._list_resources()
            return
        resource = parts[0]
        if resource not in SINGULAR or (
            resource == "sendethic_subscribers" and not simulator.module_installed
        ):
            self._errors(400, [(16, f'Resource of type "{resource}" does not exists. Did you mean: "customers"?')])  # fmt: skip
            return
        allowed = simulator.permissions.get(resource, set())
        if not allowed:
            self._errors(401, [(26, f'Resource of type "{resource}" is not allowed with this authentication key')])  # fmt: skip
            return
        if method not in allowed:
            self._errors(405, [(25, f"Method {method} is not valid for this resource")])
            return
        if len(parts) > 1:
            if not parts[1].isdigit():
                raise BadRequest(400, 16, "Bad id")
            if method == "PUT":
                self._put(resource, int(parts[1]), body)
            else:
                self._get_one(resource, int(parts[1]))
            return
        if method != "GET":
            raise BadRequest(405, 25, f"Method {method} is not valid for this resource")
        self._get_list(resource, query)

    def _list_resources(self):
        allowed = sorted(self.simulator.permissions)
        if self.json:
            self._send(200, json.dumps({name: {"get": "true"} for name in allowed}).encode(),
                       "application/json")  # fmt: skip
            return
        inner = "".join(f'<{name} get="true"/>' for name in allowed)
        self._send(200, _xml_document(f"<api>{inner}</api>"), "text/xml;charset=utf-8")

    def _records(self, resource: str) -> tuple[list, bool]:
        """Rows of the resource (as Row or plain dicts), and whether the shop context applies."""
        shop = self.simulator.shop
        if resource in shop.tables:
            return None, resource in ("customers", "orders", "carts")
        if resource == "order_histories":
            wanted = None
            for column, operation, targets in self._filters:
                if column == "id_order" and operation in ("eq", "in"):
                    wanted = [int(t) for t in targets if t.isdigit()]
            orders = sorted(shop.histories) if wanted is None else wanted
            return [
                {
                    "id": hid,
                    "id_order": order_id,
                    "id_order_state": state,
                    "id_employee": 0,
                    "date_add": shop.local(moment),
                }  # fmt: skip
                for order_id in orders
                for hid, state, moment in shop.histories.get(order_id, [])
            ], False
        if resource == "order_states":
            return [
                {
                    "id": sid,
                    "name": name,
                    "paid": paid,
                    "shipped": shipped,
                    "delivery": delivery,
                    "logable": paid,
                    "invoice": paid,
                    "hidden": 0,
                    "unremovable": 1,
                    "color": "#32CD32",
                    "template": "",
                }  # fmt: skip
                for sid, name, paid, shipped, delivery in ORDER_STATES
            ], False
        if resource == "products":
            return [dict(p, price=f"{p['price']:.6f}") for p in shop.products.values()], False
        if resource == "groups":
            return [{"id": 1, "name": "Visiteur"}, {"id": 2, "name": "Invité"},
                    {"id": 3, "name": "Client"}, {"id": 4, "name": "VIP"}], False  # fmt: skip
        if resource == "shops":
            return [dict(s, id_category=2, theme_name="classic") for s in shop.shops], False
        if resource == "shop_groups":
            groups = sorted({s["id_shop_group"] for s in shop.shops})
            return [{"id": g, "name": f"Groupe {g}", "active": 1} for g in groups], False
        if resource == "configurations":
            return [
                {
                    "id": n,
                    "name": name,
                    "value": value,
                    "id_shop": "",
                    "id_shop_group": "",
                    "date_add": NO_DATE,
                    "date_upd": NO_DATE,
                }  # fmt: skip
                for n, (name, value) in enumerate(sorted(shop.configuration.items()), start=1)
            ], False
        return [], False

    def _get_list(self, resource: str, query):
        shop = self.simulator.shop
        filters, sort, limit, display = [], None, None, None
        dates_allowed = self.params.get("date") == "1"
        for name, value in query:
            if name.startswith("filter[") and name.endswith("]"):
                column = name[7:-1]
                if column in DATE_COLUMNS and not dates_allowed:
                    raise BadRequest(400, 32, f'This filter does not exist. Did you mean: "{column}"? (add date=1 to filter on dates)')  # fmt: skip
                filters.append((column, *_parse_filter(value)))
            elif name == "sort":
                sort = [item.rsplit("_", 1) for item in value.strip("[]").split(",") if item]
                for column, _direction in sort:
                    if column in DATE_COLUMNS and not dates_allowed:
                        raise BadRequest(400, 38, f'Unable to sort on "{column}" without date=1')
            elif name == "limit":
                numbers = [int(n) for n in value.split(",")]
                limit = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
            elif name == "display":
                display = value
        self._filters = filters
        rows, scoped = self._records(resource)
        context = self.params.get("id_shop")
        shop_id = None
        if scoped and context != "all":
            shop_id = int(context) if context and context.isdigit() else 1
        offset, count = limit or (0, None)
        rendered = []
        with shop.lock:
            if rows is None:
                rows = self._table_rows(resource, shop.tables[resource], filters, sort)
            elif sort:
                for column, direction in reversed(sort):
                    rows.sort(key=lambda r, c=column: r.get(c), reverse=direction.upper() == "DESC")
            # Lazily: render and filter rows in order until the page is full.
            for row in rows:
                if shop_id is not None and row["id_shop"] != shop_id:
                    continue
                if not all(
                    _matches(self._value(row, column), op, targets)
                    for column, op, targets in filters
                ):
                    continue
                if offset:
                    offset -= 1
                    continue
                rendered.append(shop.raw(resource, row) if isinstance(row, Row) else dict(row))
                if count is not None and len(rendered) >= count:
                    break
        if display and display != "full":
            wanted = display.strip("[]").split(",")
            rendered = [{k: r[k] for k in wanted if k in r} for r in rendered]
        elif display is None:
            rendered = [{"id": r["id"]} for r in rendered]
        self._list(resource, rendered)

    def _value(self, row, column):
        """A column as filters compare it: dates in the shop's clock, the rest as stored."""
        value = row.get(column) if isinstance(row, dict) else row[column]
        if isinstance(value, datetime):
            return self.simulator.shop.local(value)
        return value

    def _table_rows(self, resource, table, filters, sort):
        """Candidate rows, in the requested order, using the indexes the client's queries hit."""
        shop = self.simulator.shop
        for column, operation, targets in filters:
            if column == "id" and operation in ("eq", "in"):
                rows = [table[int(t)] for t in targets if t.isdigit() and int(t) in table]
                return sorted(rows, key=lambda r: r["id"])
            if resource == "addresses" and column == "id_customer" and operation in ("eq", "in"):
                ids = [i for t in targets if t.isdigit()
                       for i in shop.addresses_by_customer.get(int(t), [])]  # fmt: skip
                return [table[i] for i in sorted(ids)]
            if resource == "orders" and column == "id_cart" and operation in ("eq", "in"):
                ids = [shop.orders_by_cart[int(t)] for t in targets
                       if t.isdigit() and int(t) in shop.orders_by_cart]  # fmt: skip
                return [table[i] for i in sorted(ids)]
        if sort and sort[0][0] == "date_upd":
            keys = shop.index[resource].sorted_keys()
            start = 0
            for column, operation, targets in filters:
                if column == "date_upd" and operation in ("between", "gt"):
                    low = shop.parse_local(targets[0])
                    if low is not None:
                        start = bisect.bisect_left(keys, (low, -1))
            if sort[0][1].upper() == "DESC":
                return [table[row_id] for _moment, row_id in reversed(keys) if row_id in table]
            # A generator: a page reads only the rows it needs, not the rest of the table.
            return (table[keys[i][1]] for i in range(start, len(keys)) if keys[i][1] in table)
        rows = sorted(table.values(), key=lambda r: r["id"])
        if sort:
            for column, direction in reversed(sort):
                rows.sort(key=lambda r, c=column: r[c], reverse=direction.upper() == "DESC")
        return rows

    def _get_one(self, resource: str, row_id: int):
        shop = self.simulator.shop
        table = shop.tables.get(resource)
        row = table.get(row_id) if table is not None else None
        if row is None:
            self._errors(404, [(87, f"Invalid ID: {row_id}")])
            return
        with shop.lock:
            record = shop.raw(resource, row)
        if "display" in self.params:
            self._list(resource, [record])  # any display= answers with the plural (#31244)
            return
        self._single(resource, record)

    def _put_subscriber(self, row_id: int, body: bytes):
        """The module's resource: a full document too (omitted optional fields are nulled)."""
        shop = self.simulator.shop
        subscriber = shop.tables["sendethic_subscribers"].get(row_id)
        if subscriber is None:
            self._errors(404, [(87, f"Invalid ID: {row_id}")])
            return
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - loopback test double
        except ElementTree.ParseError:
            raise BadRequest(400, 127, "XML error: the body is not XML") from None
        element = root.find("sendethic_subscriber")
        given = {child.tag: (child.text or "") for child in element} if element is not None else {}
        if given.get("id") != str(row_id) or not given.get("email") or not given.get("id_shop"):
            raise BadRequest(400, 41, 'parameters "id", "email" and "id_shop" required')
        with shop.lock:
            subscriber.values.update(
                email=given["email"],
                id_shop=int(given["id_shop"]),
                active=int(given.get("active") or 0),
                newsletter_date_add=shop.parse_local(given.get("newsletter_date_add", "")),
                ip_registration_newsletter=given.get("ip_registration_newsletter"),
                date_upd=datetime.now(UTC).replace(microsecond=0),
            )
            shop.index["sendethic_subscribers"].touch()
            record = shop.raw("sendethic_subscribers", subscriber)
        self.json = False
        self._single("sendethic_subscribers", record)

    def _put(self, resource: str, row_id: int, body: bytes):
        shop = self.simulator.shop
        if resource == "sendethic_subscribers":
            self._put_subscriber(row_id, body)
            return
        if resource != "customers":
            raise BadRequest(405, 25, "Method PUT is not valid for this resource")
        customer = shop.tables["customers"].get(row_id)
        if customer is None:
            self._errors(404, [(87, f"Invalid ID: {row_id}")])
            return
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - loopback test double
        except ElementTree.ParseError:
            raise BadRequest(400, 127, "XML error: the body is not XML (request bodies are XML only)") from None  # fmt: skip
        element = root.find("customer")
        if element is None:
            raise BadRequest(400, 127, "XML error: no <customer> element")
        given = {child.tag: (child.text or "") for child in element if child.tag != "associations"}
        if given.get("id", "") != str(row_id):
            raise BadRequest(400, 90, "id is required when modifying a resource")
        for name in REQUIRED_CUSTOMER_FIELDS:
            if not given.get(name, "").strip():
                raise BadRequest(400, 41, f'parameter "{name}" required')
        with shop.lock:
            values = customer.values
            for name in CUSTOMER_FIELDS:
                if name in KEPT_ON_PUT:
                    continue
                if name not in given:
                    values[name] = None  # omitted optional fields are set to NULL
                    continue
                text = given[name]
                current = values.get(name)
                if name in ("newsletter_date_add", "last_passwd_gen", "reset_password_validity"):
                    values[name] = shop.parse_local(text)
                elif name == "birthday":
                    values[name] = None if not text or text.startswith("0000") else text
                elif name in INT_COLUMNS:
                    values[name] = int(text or 0)
                else:
                    # An empty element reads back as the empty value it was rendered from.
                    values[name] = None if text == "" and current is None else text
            if values.get("newsletter") and values.get("newsletter_date_add") is None:
                values["newsletter_date_add"] = datetime.now(UTC).replace(microsecond=0)
            groups = element.find("associations/groups")
            if groups is not None:
                customer.groups = [int(g.findtext("id")) for g in groups if g.findtext("id")]
            values["date_upd"] = datetime.now(UTC).replace(microsecond=0)
            shop.index["customers"].touch()
            record = shop.raw("customers", customer)
        self.json = False  # PUT answers in XML
        self._single("customers", record)
