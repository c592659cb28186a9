"""PrestaShop Webservice client, 1.6 to 8 (reference/shop-apis.md §B).

The Webservice key is the Basic-auth user with an empty password. JSON is asked for
(`output_format=JSON`); a 1.6 shop answers XML anyway, and both are read into the same Python
shapes (`_xml_to_python`). Whatever the version, numbers may be strings or ints, an empty list
may be `[]`, `{}` or `{"customers": []}`, and unset dates are `0000-00-00 …`: everything is
coerced here, so the engine sees one shape.

Lists: `display=full&date=1&filter[date_upd]=[<since>,9999-12-31 23:59:59]&sort=[date_upd_ASC,
id_ASC]&limit=<offset>,<count>`. There is no total: a short page is the last one. Dates are in
the shop's time zone (PS_TIMEZONE, read once): `updated_at` strings stay in that clock for the
engine's watermarks (the shop filters in it), datetimes are converted to UTC.

Multistore: customers, orders and carts are restricted to the context shop. One chosen shop is
read with `id_shop=<id>`; several (or all of a multistore shop) with `id_shop=all` and
`filter[id_shop]=[a|b]`, so one keyset stream covers them.

Order states are told apart with the shop's own configuration (PS_OS_CANCELED, PS_OS_REFUND,
PS_OS_ERROR, PS_OS_DELIVERED) and the states' `paid` flag: "cancelled", "refunded",
"payment_error", "delivered", "paid" or "pending" (the `delivery` flag only means "show the
delivery slip"). A delivered order's delivery date is when its history entered the delivered
state (order_histories, one request per page of orders).

Write-back: PrestaShop's PUT takes the whole resource as XML and nulls what is left out, so
`set_subscription` GETs the customer's XML, changes `<newsletter>` only, and PUTs it all back
(a guest subscriber: the module's resource, `<active>`).
"""

import contextlib
import logging
import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree

import requests
from django.utils.translation import gettext as _

from connectors.shop_client import (
    Address,
    CartRecord,
    ConnectionCheck,
    CustomerRecord,
    OrderRecord,
    PacedRetryingHttp,
    Page,
    ShopBadResponse,
    ShopError,
    ShopStoreViewUnknown,
    ShopUnauthorized,
    StoreView,
    money,
    parse_shop_datetime,
)

logger = logging.getLogger(__name__)

FAR_FUTURE = "9999-12-31 23:59:59"
GENDER_SALUTATIONS = {1: "mr", 2: "mrs"}
# What each entity reads, for "Test the connection" (it names the resource a key lacks).
NEEDED_RESOURCES = {
    "customers": ["customers", "addresses", "configurations", "shops"],
    "orders": ["orders", "order_states", "order_histories"],
    "carts": ["carts", "products"],
}
SUBSCRIBERS_RESOURCE = "sendethic_subscribers"  # the Sendethic module's webservice resource
# Guest subscribers share the mirror with customers: their ids are shifted past any customer id
# (shifted, not negated, so that the engine's (updated_at, id) cursor keeps the shop's order).
GUEST_ID_OFFSET = 10**12


class GuestSubscriberRecord(CustomerRecord):
    """A newsletter subscriber without a customer account (the module's resource)."""


def _int(value, default=None):
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return default


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # several languages: [{"id": "1", "value": "…"}]
        return _text(value[0].get("value")) if value and isinstance(value[0], dict) else ""
    return str(value)


def _parse_xml(body: bytes) -> ElementTree.Element:
    """The shop's XML, refused if it declares a DTD: ElementTree never fetches external
    entities, and without a DTD no entity can be expanded (no "billion laughs")."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ShopBadResponse(detail="XML with a DTD refused")
    return ElementTree.fromstring(body)  # noqa: S314 - DTD refused above


def _plural_of(tag: str, child: str) -> bool:
    return tag in (child + "s", child + "es", child[:-1] + "ies" if child.endswith("y") else "")


def _xml_to_python(element: ElementTree.Element):
    """PrestaShop XML → the JSON output's shapes: a container of same-named children (or one
    marked `nodeType`) is a list, any other element with children a dict, a leaf its text."""
    children = list(element)
    if not children:
        if element.get("nodeType") or element.tag in ("associations",):
            return []
        language = element.find("language")
        return (element.text or "").strip() if language is None else ""
    if any(child.tag == "language" for child in children):
        return [{"id": c.get("id"), "value": (c.text or "")} for c in children]
    tags = {child.tag for child in children}
    if element.get("nodeType") or (len(tags) == 1 and _plural_of(element.tag, children[0].tag)):
        return [_xml_to_python(child) for child in children]
    return {child.tag: _xml_to_python(child) for child in children}


class PrestaShopClient(PacedRetryingHttp):
    def __init__(
        self,
        *,
        base_url: str,
        key: str,
        shop_ids: list[int] | None = None,
        fallback_time_zone: str = "Europe/Paris",
        page_size: int = 200,
        rate_per_second: float = 20.0,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        verify_tls: bool = True,
    ):
        self.base_url = base_url.rstrip("/")
        self.shop_ids = sorted({int(s) for s in shop_ids or []})
        self.page_size = page_size
        self.timeout = timeout
        self.fallback_time_zone = fallback_time_zone
        self._http_setup(
            rate_per_second=rate_per_second, max_attempts=max_attempts, backoff_base=backoff_base
        )
        self.session.verify = verify_tls
        self.session.auth = (key, "")  # the key as the user, no password
        self.session.headers["Output-Format"] = "JSON"
        self._setup_done = False
        self.tz = zoneinfo.ZoneInfo(fallback_time_zone)
        self._states: dict[int, str] = {}
        self._shops: dict[int, str] = {}
        self._multistore = False
        self._products: dict[int, dict] = {}

    # -- HTTP -----------------------------------------------------------------------------
    def _request(self, method: str, resource: str, *, params=None, data: bytes | None = None):
        url = f"{self.base_url}/api/{resource}"
        params = dict(params or {})
        if method == "GET" and "/" not in resource:
            params.setdefault("output_format", "JSON")
        headers = {"Content-Type": "text/xml"} if data is not None else None
        response = self._send(
            method,
            url,
            # A disabled webservice answers 503 for good: said at once, not retried.
            retried=lambda answer: not _is_ws_disabled(answer),
            params=params,
            data=data,
            headers=headers,
        )
        return self._decode(response, resource)

    def _decode(self, response: requests.Response, resource: str):
        body = response.content.lstrip()
        payload = None
        if body.startswith(b"<"):
            try:
                root = _parse_xml(body)
            except ElementTree.ParseError as error:
                if response.ok:
                    raise ShopBadResponse(detail=f"{resource}: malformed XML") from error
            else:
                payload = {child.tag: _xml_to_python(child) for child in root}
                if root.tag == "prestashop" and not list(root):
                    payload = []
        elif body[:1] in (b"{", b"["):
            try:
                payload = response.json()
            except ValueError as error:
                if response.ok:
                    raise ShopBadResponse(detail=f"{resource}: malformed JSON") from error
        elif response.ok:
            raise ShopBadResponse(
                detail=_("HTTP %(status)s, neither JSON nor XML: %(start)r")
                % {"status": response.status_code, "start": response.text[:80]}
            )
        if response.ok:
            return payload
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if isinstance(errors, dict):  # XML: {"error": {...}} or a list
            errors = errors.get("error", errors)
        if isinstance(errors, dict):
            errors = [errors]
        errors = [e for e in errors or [] if isinstance(e, dict)]
        codes = {_int(e.get("code")) for e in errors}
        messages = "; ".join(_text(e.get("message")) for e in errors) or response.text[:200]
        status = response.status_code
        name = resource.split("/")[0]
        if status == 503 and 22 in codes:
            raise ShopError(
                _(
                    "The shop's webservice is disabled: enable it in PrestaShop (Advanced "
                    "Parameters › Webservice)."
                )  # fmt: skip
            )
        if status in (401, 403, 405) and (26 in codes or 25 in codes or 132 in codes):
            if status == 405:
                message = _(
                    "The webservice key may not write the resource “%(resource)s”: tick PUT for "
                    "it in PrestaShop (Advanced Parameters › Webservice › the key's permissions)."
                )
            else:
                message = _(
                    "The webservice key may not read the resource “%(resource)s”: tick it in "
                    "PrestaShop (Advanced Parameters › Webservice › the key's permissions)."
                )
            raise ShopUnauthorized(
                message % {"resource": name},
                resource=name,
                detail=messages,
            )
        if status == 401:
            if 18 in codes:
                message = _("The webservice key is malformed (PrestaShop keys have 32 characters).")
            elif codes & {20, 21}:
                message = _("The shop refused this webservice key (unknown or not active).")
            else:
                message = _("The shop asks for a webservice key (HTTP 401).")
            raise ShopUnauthorized(message, detail=messages)
        raise ShopError(
            _("The shop answered HTTP %(status)s: %(text)s")
            % {"status": status, "text": messages[:300]}
        )

    def _list(self, resource: str, params: dict) -> list[dict]:
        payload = self._request("GET", resource, params=params)
        # Empty lists: [] (1.7), {} , {"customers": []}, or "" from an empty XML element.
        if payload in ([], {}, None, ""):
            return []
        if not isinstance(payload, dict):
            raise ShopBadResponse(detail=f"{resource}: not a list")
        items = payload.get(resource, [])
        if items in ("", {}):
            return []
        if isinstance(items, dict):  # one XML child read as a dict
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ShopBadResponse(detail=f"{resource}: items are not objects")
        return items

    # -- the shop -------------------------------------------------------------------------
    def _setup(self) -> None:
        """Time zone, order states, shops: once per client (per run)."""
        if self._setup_done:
            return
        config = {
            _text(row.get("name")): _text(row.get("value"))
            for row in self._list(
                "configurations",
                {
                    "display": "[name,value]",
                    "filter[name]": "[PS_TIMEZONE|PS_OS_CANCELED|PS_OS_REFUND|PS_OS_ERROR|PS_OS_DELIVERED|"
                    "PS_MULTISHOP_FEATURE_ACTIVE]",
                },  # fmt: skip
            )
        }
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            if config.get("PS_TIMEZONE"):
                self.tz = zoneinfo.ZoneInfo(config["PS_TIMEZONE"])
        self._multistore = config.get("PS_MULTISHOP_FEATURE_ACTIVE") == "1"
        self._config = config
        self.store_views()
        self._setup_done = True

    def _order_states(self) -> dict[int, str]:
        if self._states:
            return self._states
        special = {
            _int(self._config.get("PS_OS_CANCELED")): "cancelled",
            _int(self._config.get("PS_OS_REFUND")): "refunded",
            _int(self._config.get("PS_OS_ERROR")): "payment_error",
            _int(self._config.get("PS_OS_DELIVERED")): "delivered",
        }
        special.pop(None, None)
        for row in self._list("order_states", {"display": "full"}):
            state_id = _int(row.get("id"))
            if state_id in special:
                self._states[state_id] = special[state_id]
            elif _int(row.get("paid")):
                self._states[state_id] = "paid"
            else:
                self._states[state_id] = "pending"
        return self._states

    def store_views(self) -> list[StoreView]:
        shops = self._list("shops", {"display": "full"})
        views = [
            StoreView(id=_int(row.get("id")), code=str(_int(row.get("id"))), name=_text(row.get("name")))
            for row in shops
            if _int(row.get("id"))
        ]  # fmt: skip
        self._shops = {view.id: view.name for view in views}
        unknown = [shop for shop in self.shop_ids if shop not in self._shops]
        if unknown:
            raise ShopStoreViewUnknown(
                _("The shop has no shop #%(ids)s (it has: %(known)s).")
                % {
                    "ids": ", ".join(map(str, unknown)),
                    "known": ", ".join(f"{v.id} {v.name}" for v in views),
                }  # fmt: skip
            )
        return views

    def check(self) -> ConnectionCheck:
        self._setup()
        views = self.store_views()
        missing = []
        for resources in NEEDED_RESOURCES.values():
            for resource in resources:
                try:
                    self._list(resource, {"display": "[id]", "limit": "1"})
                except ShopUnauthorized as error:
                    if not error.resource:
                        raise
                    missing.append(error.resource)
        return ConnectionCheck(store_views=views, missing_resources=missing)

    def optional_entities(self) -> list[str]:
        """Guest newsletter subscribers, when the Sendethic module exposes them to this key."""
        return ["subscribers"] if self.subscribers_available() else []

    def subscribers_available(self) -> bool:
        """Whether the Sendethic module's guest-subscriber resource answers this key."""
        try:
            self._list(SUBSCRIBERS_RESOURCE, {"display": "[id]", "limit": "1"})
        except ShopError:
            return False
        return True

    # -- lists ----------------------------------------------------------------------------
    def _scope(self, params: dict) -> dict:
        if not self._multistore and not self.shop_ids:
            return params
        shops = self.shop_ids or sorted(self._shops)
        if len(shops) == 1:
            params["id_shop"] = str(shops[0])
        else:
            params["id_shop"] = "all"
            if self.shop_ids:
                params["filter[id_shop]"] = "[" + "|".join(map(str, shops)) + "]"
        return params

    def fetch_changed(self, entity: str, *, since: str | None, page: int) -> Page:
        self._setup()
        resource = SUBSCRIBERS_RESOURCE if entity == "subscribers" else entity
        params = {
            "display": "full",
            "date": "1",
            "sort": "[date_upd_ASC,id_ASC]",
            "limit": f"{(page - 1) * self.page_size},{self.page_size}",
        }
        if since:
            params["filter[date_upd]"] = f"[{since},{FAR_FUTURE}]"
        if entity == "carts":
            params["filter[id_customer]"] = ">[0]"
        if entity == "subscribers":
            if self.shop_ids:
                params["filter[id_shop]"] = "[" + "|".join(map(str, self.shop_ids)) + "]"
        else:
            self._scope(params)
        items = self._list(resource, params)
        convert = {
            "customers": self._customers,
            "orders": self._orders,
            "carts": self._carts,
            "subscribers": self._subscribers,
        }[entity]
        records = convert(items)
        return Page(records=records, total_count=0, is_last=len(items) < self.page_size)

    # -- conversions ----------------------------------------------------------------------
    def _utc(self, value) -> datetime | None:
        text = _text(value)
        if not text or text.startswith("0000"):
            return None
        local = parse_shop_datetime(text)
        return local.replace(tzinfo=self.tz).astimezone(UTC) if local else None

    def _addresses(self, customer_ids: list[int]) -> dict[int, Address]:
        if not customer_ids:
            return {}
        rows = self._list(
            "addresses",
            {
                "display": "[id,id_customer,phone,phone_mobile,postcode,city,id_country,deleted]",
                "filter[id_customer]": "[" + "|".join(map(str, customer_ids)) + "]",
            },  # fmt: skip
        )
        result = {}
        for row in sorted(rows, key=lambda r: _int(r.get("id"), 0)):
            if _int(row.get("deleted")):
                continue
            result[_int(row.get("id_customer"))] = Address(
                phone=_text(row.get("phone_mobile")) or _text(row.get("phone")),
                zip_code=_text(row.get("postcode")),
                city=_text(row.get("city")),
            )  # the latest address wins
        return result

    def _customers(self, items: list[dict]) -> list[CustomerRecord]:
        addresses = self._addresses([_int(i.get("id")) for i in items if _int(i.get("id"))])
        records = []
        for item in items:
            customer_id = _int(item.get("id"))
            if customer_id is None:
                raise ShopBadResponse(detail="customers: an item has no id")
            birthday = None
            with contextlib.suppress(ValueError):
                text = _text(item.get("birthday"))
                birthday = date.fromisoformat(text[:10]) if text and text[:4] != "0000" else None
            groups = ((item.get("associations") or {}).get("groups")) or []
            group_ids = sorted({_int(g.get("id")) for g in groups if isinstance(g, dict)} - {None})
            shop_id = _int(item.get("id_shop"))
            updated = self._utc(item.get("date_upd"))
            records.append(
                CustomerRecord(
                    external_id=customer_id,
                    email=_text(item.get("email")).strip(),
                    updated_at=_text(item.get("date_upd"))[:19],
                    first_name=_text(item.get("firstname")),
                    last_name=_text(item.get("lastname")),
                    salutation=GENDER_SALUTATIONS.get(_int(item.get("id_gender"), 0), ""),
                    birth_date=birthday,
                    address=addresses.get(customer_id, Address()),
                    created_at=self._utc(item.get("date_add")),
                    store_id=shop_id,
                    store_view=self._shops.get(shop_id or 0, ""),
                    is_subscribed=bool(_int(item.get("newsletter"), 0)),
                    extra_fields={
                        "shop_id": shop_id,
                        "group_ids": ",".join(map(str, group_ids)) or None,
                        "last_login": updated.date().isoformat() if updated else None,
                    },
                    outside_scope=bool(_int(item.get("deleted"), 0)),
                )
            )
        return records

    def _delivered_at(self, order_ids: list[int]) -> dict[int, datetime]:
        """When each order last entered the delivered state, from its history."""
        delivered_state = _int(self._config.get("PS_OS_DELIVERED"))
        if not order_ids or delivered_state is None:
            return {}
        moments: dict[int, datetime] = {}
        for row in self._list(
            "order_histories",
            {
                "display": "[id,id_order,id_order_state,date_add]",
                "filter[id_order]": "[" + "|".join(map(str, order_ids)) + "]",
                "filter[id_order_state]": f"[{delivered_state}]",
            },  # fmt: skip
        ):
            moment = self._utc(row.get("date_add"))
            order_id = _int(row.get("id_order"))
            if moment and (order_id not in moments or moment > moments[order_id]):
                moments[order_id] = moment
        return moments

    def _orders(self, items: list[dict]) -> list[OrderRecord]:
        states = self._order_states()
        delivered_ids = [
            _int(item.get("id"))
            for item in items
            if states.get(_int(item.get("current_state"))) == "delivered"
        ]
        delivered_at = self._delivered_at(delivered_ids)
        records = []
        for item in items:
            created = self._utc(item.get("date_add"))
            state = states.get(_int(item.get("current_state")), "pending")
            delivered = None
            if state == "delivered":
                delivered = delivered_at.get(_int(item.get("id"))) or self._utc(
                    item.get("date_upd")
                )
            records.append(
                OrderRecord(
                    external_id=_int(item.get("id")),
                    email="",  # orders carry no email: the engine takes the customer's
                    updated_at=_text(item.get("date_upd"))[:19],
                    state=state,
                    grand_total=money(item.get("total_paid_tax_incl") or item.get("total_paid")),
                    total_refunded=Decimal(0),
                    created_at=created,
                    updated=delivered or self._utc(item.get("date_upd")) or created,
                    customer_id=_int(item.get("id_customer")),
                    quote_id=_int(item.get("id_cart")) or None,
                    store_id=_int(item.get("id_shop")),
                )
            )
        return records

    def _product_details(self, product_ids: set[int]) -> None:
        missing = sorted(p for p in product_ids if p not in self._products)
        if not missing:
            return
        for row in self._list(
            "products",
            {
                "display": "[id,name,price,reference]",
                "language": "1",
                "filter[id]": "[" + "|".join(map(str, missing)) + "]",
            },  # fmt: skip
        ):
            self._products[_int(row.get("id"))] = {
                "name": _text(row.get("name")),
                "sku": _text(row.get("reference")),
                "price": money(row.get("price")),
            }

    def _carts(self, items: list[dict]) -> list[CartRecord]:
        cart_ids = [_int(i.get("id")) for i in items if _int(i.get("id"))]
        ordered = set()
        if cart_ids:
            ordered = {
                _int(row.get("id_cart"))
                for row in self._list(
                    "orders",
                    self._scope(
                        {
                            "display": "[id,id_cart]",
                            "filter[id_cart]": "[" + "|".join(map(str, cart_ids)) + "]",
                        }
                    ),
                )  # fmt: skip
            }
        lines_of = {}
        for item in items:
            rows = ((item.get("associations") or {}).get("cart_rows")) or []
            lines_of[_int(item.get("id"))] = [
                (_int(r.get("id_product")), _int(r.get("quantity"), 0)) for r in rows
                if isinstance(r, dict)
            ]  # fmt: skip
        self._product_details({p for lines in lines_of.values() for p, _q in lines if p})
        records = []
        for item in items:
            cart_id = _int(item.get("id"))
            lines = []
            for product_id, quantity in lines_of[cart_id]:
                product = self._products.get(product_id, {"name": "", "sku": "", "price": 0})
                lines.append({"name": product["name"], "sku": product["sku"],
                              "qty": float(quantity), "price": str(product["price"])})  # fmt: skip
            total = sum((money(line["price"]) * Decimal(str(line["qty"])) for line in lines),
                        Decimal(0))  # fmt: skip
            records.append(
                CartRecord(
                    external_id=cart_id,
                    email="",  # carts carry no email: the engine takes the customer's
                    updated_at=_text(item.get("date_upd"))[:19],
                    updated=self._utc(item.get("date_upd")) or self._utc(item.get("date_add")),
                    is_active=cart_id not in ordered,
                    customer_id=_int(item.get("id_customer")),
                    items=lines,
                    total=total,
                    store_id=_int(item.get("id_shop")),
                )
            )
        return records

    def _subscribers(self, items: list[dict]) -> list[CustomerRecord]:
        return [
            GuestSubscriberRecord(
                external_id=GUEST_ID_OFFSET + _int(item.get("id")),
                email=_text(item.get("email")).strip(),
                updated_at=_text(item.get("date_upd") or item.get("newsletter_date_add"))[:19],
                created_at=self._utc(item.get("newsletter_date_add")),
                store_id=_int(item.get("id_shop")),
                is_subscribed=bool(_int(item.get("active"), 0)),
                extra_fields={"shop_id": _int(item.get("id_shop"))},
            )
            for item in items
        ]

    # -- write-back -----------------------------------------------------------------------
    def _raw_get(self, resource: str) -> bytes:
        """The resource's XML exactly as the shop sends it (no JSON: PUT wants this back),
        through the same pacing and retries as every other request."""
        response = self._send(
            "GET",
            f"{self.base_url}/api/{resource}",
            retried=lambda answer: not _is_ws_disabled(answer),
            headers={"Output-Format": "XML", "Io-Format": "XML"},
        )
        if not response.ok:
            self._decode(response, resource)
        return response.content

    def set_subscription(self, *, external_id: int, subscribed: bool) -> None:
        """GET the whole customer as XML, change `<newsletter>`, PUT the whole document back
        (a partial document would null every field left out)."""
        if external_id >= GUEST_ID_OFFSET:
            # A guest subscriber: the module's resource, whose update the module applies to the
            # newsletter module's own table.
            resource, element, flag = (
                f"{SUBSCRIBERS_RESOURCE}/{int(external_id - GUEST_ID_OFFSET)}",
                "sendethic_subscriber",
                "active",
            )
        else:
            resource, element, flag = f"customers/{int(external_id)}", "customer", "newsletter"
        document = _parse_xml(self._raw_get(resource))
        record = document.find(element)
        if record is None or record.find(flag) is None:
            raise ShopBadResponse(detail=f"{element} XML has no <{flag}>")
        record.find(flag).text = "1" if subscribed else "0"
        body = ElementTree.tostring(document, encoding="utf-8", xml_declaration=True)
        self._request("PUT", resource, data=body)


def _is_ws_disabled(response: requests.Response) -> bool:
    return response.status_code == 503 and b"22" in response.content[:400]
