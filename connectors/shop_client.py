"""What the sync engine needs from a shop, whatever its platform.

A platform (connectors.magento, connectors.prestashop) implements `ShopClient`: list customers,
orders and carts changed since a watermark, one page at a time, sorted by (updated_at, id); say
what the shop is (store views) and whether the credentials reach every resource; write a
newsletter opt-in back. Records come back normalised into the dataclasses below, so the engine
and consolidation know nothing of a platform's shapes.

Shop times are naive "YYYY-MM-DD HH:MM:SS" strings in the shop's API time zone (UTC for
Magento, PS_TIMEZONE for PrestaShop): watermarks are kept in the shop's own clock, never ours, so clock skew between the
shop and this platform cannot skip a change.
"""

import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from connectors.public_http import PrivatePeer, public_only_session

# "YYYY-MM-DD HH:MM:SS", as Magento and PrestaShop write their dates (longer values, with
# fractions or an offset, are read up to the seconds).
_SHOP_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def parse_shop_datetime(text: str) -> datetime | None:
    """The naive date and time at the start of `text`, or None if it holds none. strptime
    does the same at a twentieth of the speed: a sync parses several per order."""
    head = text[:19]
    if not _SHOP_TIME.fullmatch(head):
        return None
    try:
        return datetime.fromisoformat(head)
    except ValueError:  # 2025-02-30 and the like
        return None


class ShopError(Exception):
    """A shop call failed in a way the run log explains to the shop owner."""

    code = "shop_error"
    default_message = _("The shop answered with an error.")
    # Temporary errors are retried with backoff before they fail a run.
    temporary = False

    def __init__(self, message: str | None = None, *, detail: str = ""):
        self.message = str(message or self.default_message)
        self.detail = detail
        super().__init__(self.message)


class ShopUnreachable(ShopError):
    code = "unreachable"
    default_message = _("The shop cannot be reached (host unknown, connection refused or timeout).")
    temporary = True


class ShopHostPrivate(ShopError):
    code = "host_not_public"
    default_message = _(
        "The shop's address leads to a private or local network address: a shop must be reachable "
        "on the internet."
    )


class ShopTlsError(ShopError):
    code = "tls_error"
    default_message = _("The shop's TLS certificate is not valid.")


class ShopUnauthorized(ShopError):
    """401: bad credentials, or an integration lacking an ACL resource (`resource` names it)."""

    code = "unauthorized"

    def __init__(self, message: str | None = None, *, resource: str = "", detail: str = ""):
        self.resource = resource
        super().__init__(message, detail=detail)


class ShopStoreViewUnknown(ShopError):
    code = "unknown_store_view"


class ShopBadResponse(ShopError):
    code = "bad_response"
    default_message = _("The shop answered something that is not the expected JSON.")


class ShopTemporaryError(ShopError):
    """429 or 5xx: retried with backoff; fails the run only once the retries are spent."""

    code = "shop_unavailable"
    default_message = _("The shop is overloaded or failing (HTTP 429/5xx) after several retries.")
    temporary = True


@dataclass
class Address:
    phone: str = ""
    zip_code: str = ""
    city: str = ""
    country: str = ""


@dataclass
class CustomerRecord:
    external_id: int
    email: str
    updated_at: str
    first_name: str = ""
    last_name: str = ""
    salutation: str = ""  # "mr", "mrs" or ""
    birth_date: date | None = None
    address: Address = field(default_factory=Address)
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    store_id: int | None = None
    store_view: str = ""
    is_subscribed: bool | None = None  # None: the shop did not say
    outside_scope: bool = False  # in a store view the connection does not read
    # Platform-specific typed fields, by suffix (e.g. PrestaShop's "shop_id", "group_ids"); the
    # engine writes those the platform declares (consolidation.shop_fields_for).
    extra_fields: dict = field(default_factory=dict)


@dataclass
class OrderRecord:
    external_id: int
    email: str
    updated_at: str
    state: str
    grand_total: Decimal
    created_at: datetime
    updated: datetime
    total_refunded: Decimal = Decimal(0)
    currency: str = ""
    # PrestaShop orders and carts carry only the customer id: an empty email is filled by the
    # engine from the mirrored customer.
    customer_id: int | None = None
    quote_id: int | None = None
    first_name: str = ""
    last_name: str = ""
    store_id: int | None = None
    phone: str = ""
    outside_scope: bool = False


@dataclass
class CartRecord:
    external_id: int
    email: str
    updated_at: str
    updated: datetime
    is_active: bool
    customer_id: int | None = None
    items: list[dict] = field(default_factory=list)  # {name, sku, qty, price}
    total: Decimal = Decimal(0)
    currency: str = ""
    store_id: int | None = None
    outside_scope: bool = False


@dataclass
class Page:
    records: list
    total_count: int
    is_last: bool


@dataclass
class StoreView:
    id: int
    code: str
    name: str


@dataclass
class ConnectionCheck:
    """The answer of "Test the connection"."""

    store_views: list[StoreView]
    # Resource names the credentials may not read (e.g. "Magento_Sales::actions_view").
    missing_resources: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_resources


class ShopClient(Protocol):
    page_size: int

    def check(self) -> ConnectionCheck: ...

    def store_views(self) -> list[StoreView]: ...

    def fetch_changed(self, entity: str, *, since: str | None, page: int) -> Page:
        """Records of `entity` ("customers", "orders", "carts") with updated_at >= since,
        sorted by (updated_at, id), page `page` (1-based) of `page_size`."""
        ...

    def set_subscription(self, *, external_id: int, subscribed: bool) -> None: ...

    # Optional: `optional_entities() -> list[str]`, entities read after the three above when
    # the shop offers them (PrestaShop: "subscribers", the module's guest subscribers).


RETRIED_STATUSES = {429, 500, 502, 503, 504}
logger = logging.getLogger(__name__)


def money(value) -> Decimal:
    """A shop's amount (number or numeric string); empty or unreadable is 0."""
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


class PacedRetryingHttp:
    """What every shop client does with HTTP: at most `rate_per_second` requests (shared by the
    client's threads), connection errors, timeouts and 429/5xx retried with exponential backoff
    and jitter (never sooner than the shop's Retry-After, capped at 60 s), TLS errors at once."""

    def _http_setup(self, *, rate_per_second: float, max_attempts: int, backoff_base: float):
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self._min_interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self._next_call = 0.0
        self._pace_lock = threading.Lock()
        self.request_count = 0
        # Where private addresses are refused, they are refused on the connected socket too.
        private_allowed = settings.CONNECTOR_ALLOW_PRIVATE_HOSTS
        self.session = requests.Session() if private_allowed else public_only_session()

    def _pace(self) -> None:
        if not self._min_interval:
            return
        with self._pace_lock:
            now = time.monotonic()
            wait = self._next_call - now
            self._next_call = max(now, self._next_call) + self._min_interval
        if wait > 0:
            time.sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        *,
        retried: Callable[[requests.Response], bool] = lambda response: True,
        **request_options,
    ) -> requests.Response:
        """The shop's answer to one request, after the retries; `retried` may refuse to retry
        a 429/5xx answer that is final (PrestaShop's "webservice disabled" is a 503)."""
        last_error: ShopError | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                delay = self.backoff_base * 2 ** (attempt - 1) * (1 + random.random() / 2)
                time.sleep(max(delay, getattr(last_error, "retry_after", 0) or 0))
            self._pace()
            self.request_count += 1
            try:
                response = self.session.request(
                    method, url, timeout=self.timeout, **request_options
                )
            except PrivatePeer as error:
                raise ShopHostPrivate(detail=error.address) from error
            except requests.exceptions.SSLError as error:
                raise ShopTlsError(detail=str(error)[:300]) from error
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
                last_error = ShopUnreachable(detail=str(error)[:300])
                continue
            if response.status_code in RETRIED_STATUSES and retried(response):
                last_error = ShopTemporaryError(detail=f"HTTP {response.status_code}")
                with contextlib.suppress(KeyError, ValueError):
                    last_error.retry_after = min(float(response.headers["Retry-After"]), 60.0)
                continue
            return response
        logger.warning("%s %s failed after %d attempts", method, url, self.max_attempts)
        raise last_error
