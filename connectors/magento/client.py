"""Magento 2 REST client (reference/shop-apis.md §A).

Requests are signed OAuth 1.0a HMAC-SHA256 with the integration's four keys, or carry the access
token as a bearer token where the shop allows it (since 2.4.4 it is off by default). Lists use
searchCriteria: `updated_at gteq <since>`, sorted by updated_at then id, paged. Magento answers a
page past the end with the last page again, so the end is `current_page * page_size >=
total_count`, and a page whose ids equal the previous page's also ends the list.

Calls are paced (`rate_per_second`) and retried with exponential backoff on 429, 5xx, timeouts
and refused connections (honouring Retry-After); other failures become precise ShopErrors.
"""

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import requests
from django.utils.translation import gettext as _
from requests_oauthlib import OAuth1

from connectors.credentials import ShopCredentials
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

MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"
ENDPOINTS = {
    "customers": "customers/search",
    "orders": "orders",
    "carts": "carts/search",
}
# The resource each list needs, as Magento's webapi.xml declares it: "Test the connection" names
# the one the integration lacks.
RESOURCES = {
    "customers": "Magento_Customer::customer",
    "orders": "Magento_Sales::actions_view",
    "carts": "Magento_Cart::manage",
}
ID_FIELDS = {"customers": "entity_id", "orders": "entity_id", "carts": "entity_id"}
GENDER_SALUTATIONS = {1: "mr", 2: "mrs"}
PREFIX_SALUTATIONS = {"m": "mr", "m.": "mr", "mr": "mr", "mme": "mrs", "mrs": "mrs", "mlle": "mrs"}


def shop_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(MAGENTO_TIME)


def parse_shop_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = parse_shop_datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed else None


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None


class MagentoClient(PacedRetryingHttp):
    def __init__(
        self,
        *,
        base_url: str,
        credentials: ShopCredentials,
        use_bearer: bool = False,
        store_code: str = "all",
        store_view_codes: list[str] | None = None,
        page_size: int = 200,
        rate_per_second: float = 20.0,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        verify_tls: bool = True,
    ):
        self.base_url = base_url.rstrip("/")
        self.store_code = store_code
        self.store_view_codes = list(store_view_codes or [])
        self.page_size = page_size
        self.timeout = timeout
        self._http_setup(
            rate_per_second=rate_per_second, max_attempts=max_attempts, backoff_base=backoff_base
        )
        self._store_ids: set[int] | None = None
        self._store_names: dict[int, str] = {}
        self.session.verify = verify_tls
        self.session.headers["Accept"] = "application/json"
        if use_bearer or not credentials.is_oauth:
            self.session.headers["Authorization"] = f"Bearer {credentials.access_token}"
        else:
            self.session.auth = OAuth1(
                credentials.consumer_key,
                client_secret=credentials.consumer_secret,
                resource_owner_key=credentials.access_token,
                resource_owner_secret=credentials.access_token_secret,
                signature_method="HMAC-SHA256",
            )

    def _url(self, path: str, *, scoped: bool = True) -> str:
        scope = f"/{self.store_code}" if scoped and self.store_code else ""
        return f"{self.base_url}/rest{scope}/V1/{path}"

    def _request(self, method: str, path: str, *, params=None, body=None, scoped=True):
        url = self._url(path, scoped=scoped)
        return self._decode(self._send(method, url, params=params, json=body))

    def _decode(self, response: requests.Response):
        try:
            payload = response.json()
        except ValueError as error:
            if response.ok:
                raise ShopBadResponse(
                    detail=_("HTTP %(status)s, not JSON: %(start)r")
                    % {"status": response.status_code, "start": response.text[:80]}
                ) from error
            payload = None
        if response.status_code == 401:
            resource = ""
            if isinstance(payload, dict):
                resource = str((payload.get("parameters") or {}).get("resources") or "")
            if resource:
                message = _(
                    "The integration is not allowed to read %(resource)s: give it this resource "
                    "in Magento (System › Integrations › API)."
                ) % {"resource": resource}
            else:
                message = _("The shop refused the credentials (HTTP 401).")
            raise ShopUnauthorized(message, resource=resource)
        if not response.ok:
            text = payload.get("message") if isinstance(payload, dict) else response.text[:200]
            if response.status_code in (400, 404) and "store" in str(text).lower():
                raise ShopStoreViewUnknown(
                    _("The shop has no store view “%(code)s”.") % {"code": self.store_code}
                )
            raise ShopError(
                _("The shop answered HTTP %(status)s: %(text)s")
                % {"status": response.status_code, "text": text}
            )
        return payload

    def store_views(self) -> list[StoreView]:
        payload = self._request("GET", "store/storeViews", scoped=False)
        if not isinstance(payload, list):
            raise ShopBadResponse(detail="store/storeViews is not a list")
        views = [
            StoreView(id=int(row["id"]), code=str(row.get("code", "")), name=row.get("name", ""))
            for row in payload
            if isinstance(row, dict) and "id" in row and int(row["id"]) != 0
        ]
        self._store_names = {view.id: view.name for view in views}
        if self.store_view_codes:
            known = {view.code: view.id for view in views}
            unknown = [code for code in self.store_view_codes if code not in known]
            if unknown:
                raise ShopStoreViewUnknown(
                    _("The shop has no store view “%(code)s” (it has: %(known)s).")
                    % {"code": ", ".join(unknown), "known": ", ".join(sorted(known))}
                )
            self._store_ids = {known[code] for code in self.store_view_codes}
        else:
            self._store_ids = None
        return views

    def check(self) -> ConnectionCheck:
        views = self.store_views()
        missing = []
        for entity in ENDPOINTS:
            try:
                self._search(entity, since=None, page=1, page_size=1)
            except ShopUnauthorized as error:
                if not error.resource:
                    raise
                missing.append(error.resource)
        if len(missing) == len(ENDPOINTS):
            # Magento answers a wrong key and an integration without resources alike.
            raise ShopUnauthorized(
                _(
                    "The shop refused these credentials, or the integration has none of the "
                    "resources it needs (%(resources)s)."
                )
                % {"resources": ", ".join(missing)},
                resource=missing[0],
            )
        return ConnectionCheck(store_views=views, missing_resources=missing)

    def _search(self, entity: str, *, since: str | None, page: int, page_size: int):
        params = {
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[sortOrders][1][field]": ID_FIELDS[entity],
            "searchCriteria[sortOrders][1][direction]": "ASC",
            "searchCriteria[pageSize]": page_size,
            "searchCriteria[currentPage]": page,
        }
        group = 0
        if since:
            params.update(
                {
                    f"searchCriteria[filter_groups][{group}][filters][0][field]": "updated_at",
                    f"searchCriteria[filter_groups][{group}][filters][0][value]": since,
                    f"searchCriteria[filter_groups][{group}][filters][0][condition_type]": "gteq",
                }
            )
            group += 1
        if entity == "carts":
            # Known customers' quotes only; inactive ones too, so that a cart turned into an
            # order (is_active=0) clears the abandoned cart here.
            params.update(
                {
                    f"searchCriteria[filter_groups][{group}][filters][0][field]": "customer_id",
                    f"searchCriteria[filter_groups][{group}][filters][0][value]": "0",
                    f"searchCriteria[filter_groups][{group}][filters][0][condition_type]": "gt",
                }
            )
        payload = self._request("GET", ENDPOINTS[entity], params=params)
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            raise ShopBadResponse(detail=f"{ENDPOINTS[entity]}: no items list")
        try:
            total = int(payload.get("total_count") or 0)
        except (TypeError, ValueError) as error:
            raise ShopBadResponse(detail="total_count is not a number") from error
        return payload["items"], total

    def fetch_changed(self, entity: str, *, since: str | None, page: int) -> Page:
        if self._store_ids is None and self.store_view_codes:
            self.store_views()
        items, total = self._search(entity, since=since, page=page, page_size=self.page_size)
        # Past the end Magento repeats the last page: the page number alone says where it ends.
        is_last = page * self.page_size >= total or len(items) < self.page_size
        if (page - 1) * self.page_size >= total:
            items = []
        convert = {
            "customers": self._customer,
            "orders": self._order,
            "carts": self._cart,
        }[entity]
        records = []
        for item in items:
            if not isinstance(item, dict):
                raise ShopBadResponse(detail=f"{entity}: an item is not an object")
            record = convert(item)
            if record is None:
                continue
            if self._store_ids is not None and record.store_id not in self._store_ids:
                # Outside the chosen store views; still counted as read, so paging goes on.
                record.outside_scope = True
            records.append(record)
        return Page(records=records, total_count=total, is_last=is_last)

    def _customer(self, item: dict) -> CustomerRecord:
        address = Address()
        addresses = item.get("addresses") or []
        default_id = str(item.get("default_billing") or item.get("default_shipping") or "")
        chosen = next((a for a in addresses if str(a.get("id")) == default_id), None) or (
            addresses[0] if addresses else None
        )
        if chosen:
            address = Address(
                phone=str(chosen.get("telephone") or ""),
                zip_code=str(chosen.get("postcode") or ""),
                city=str(chosen.get("city") or ""),
                country=str(chosen.get("country_id") or ""),
            )
        salutation = GENDER_SALUTATIONS.get(_int_or_none(item.get("gender")) or 0, "")
        if not salutation:
            salutation = PREFIX_SALUTATIONS.get(str(item.get("prefix") or "").strip().lower(), "")
        birth_date = None
        if item.get("dob"):
            try:
                birth_date = date.fromisoformat(str(item["dob"])[:10])
            except ValueError:
                birth_date = None
        subscribed = (item.get("extension_attributes") or {}).get("is_subscribed")
        store_id = _int_or_none(item.get("store_id"))
        return CustomerRecord(
            external_id=int(item["id"]),
            email=str(item.get("email") or ""),
            updated_at=str(item.get("updated_at") or item.get("created_at") or ""),
            first_name=str(item.get("firstname") or ""),
            last_name=str(item.get("lastname") or ""),
            salutation=salutation,
            birth_date=birth_date,
            address=address,
            created_at=parse_shop_time(item.get("created_at")),
            store_id=store_id,
            store_view=self._store_names.get(store_id or 0, str(item.get("created_in") or "")),
            is_subscribed=bool(subscribed) if subscribed is not None else None,
        )

    def _order(self, item: dict) -> OrderRecord:
        created = parse_shop_time(item.get("created_at"))
        updated = parse_shop_time(item.get("updated_at")) or created
        billing = item.get("billing_address") or {}
        return OrderRecord(
            external_id=int(item["entity_id"]),
            email=str(item.get("customer_email") or billing.get("email") or ""),
            updated_at=str(item.get("updated_at") or item.get("created_at") or ""),
            state=str(item.get("state") or ""),
            grand_total=money(item.get("base_grand_total", item.get("grand_total"))),
            total_refunded=money(item.get("base_total_refunded", item.get("total_refunded"))),
            currency=str(item.get("base_currency_code") or item.get("order_currency_code") or ""),
            created_at=created,
            updated=updated,
            customer_id=_int_or_none(item.get("customer_id")),
            quote_id=_int_or_none(item.get("quote_id")),
            first_name=str(item.get("customer_firstname") or billing.get("firstname") or ""),
            last_name=str(item.get("customer_lastname") or billing.get("lastname") or ""),
            store_id=_int_or_none(item.get("store_id")),
            phone=str(billing.get("telephone") or ""),
        )

    def _cart(self, item: dict) -> CartRecord | None:
        customer = item.get("customer") or {}
        items = [
            {
                "name": str(line.get("name") or ""),
                "sku": str(line.get("sku") or ""),
                "qty": float(line.get("qty") or 0),
                "price": str(money(line.get("price"))),
            }
            for line in item.get("items") or []
        ]
        total = sum(
            (money(line["price"]) * Decimal(str(line["qty"])) for line in items), Decimal(0)
        )
        return CartRecord(
            external_id=int(item["id"]),
            email=str(customer.get("email") or ""),
            updated_at=str(item.get("updated_at") or item.get("created_at") or ""),
            updated=parse_shop_time(item.get("updated_at") or item.get("created_at")),
            is_active=bool(item.get("is_active")),
            customer_id=_int_or_none(customer.get("id")),
            items=items,
            total=total,
            currency=str((item.get("currency") or {}).get("base_currency_code") or ""),
            store_id=_int_or_none(item.get("store_id")),
        )

    def set_subscription(self, *, external_id: int, subscribed: bool) -> None:
        """PUT the customer as read, with the flag changed and without `addresses` (an empty
        list would delete them)."""
        customer = self._request("GET", f"customers/{int(external_id)}")
        if not isinstance(customer, dict):
            raise ShopBadResponse(detail="customer is not an object")
        customer.pop("addresses", None)
        extension = dict(customer.get("extension_attributes") or {})
        extension["is_subscribed"] = bool(subscribed)
        customer["extension_attributes"] = extension
        store_code = self.store_code
        self.store_code = "all"
        try:
            self._request("PUT", f"customers/{int(external_id)}", body={"customer": customer})
        finally:
            self.store_code = store_code
