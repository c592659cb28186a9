"""The sync engine: one run of one connection, page by page, resumable.

A run holds its connection (`running_run` + a lease renewed on every page), so two runs of one
connection never interleave; whatever ends the run (success, a shop error, a bug) releases it,
and a killed worker's lease simply runs out. Each page is one transaction: the mirror rows, the
contact writes (through the contacts services, which apply normalisation, typed fields, consent
and suppression) and the run's checkpoint commit together, so a run taken over after a crash
starts at the first page not committed, and a page read twice writes the same values again.

Paging is by key, not by offset: each request asks for `updated_at >= <last timestamp seen>`
sorted by (updated_at, id), and rows already seen (same timestamp, lower id) are skipped. An
offset would skip rows when the shop updates a record mid-run (it moves to the end of the sort
and every later row shifts back a place). Watermarks are shop timestamps: a delta starts at the
previous watermark minus an overlap window, so a row written in the same second as the last
read, or committed late by the shop, is still read.
"""

import logging
import queue
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.domain_events import send_on_commit
from accounts.lookups import among
from connectors.consolidation import (
    consolidation_of,
    field_key,
    shop_fields_ensure,
    shop_fields_for,
    shop_segments_ensure,
)
from connectors.mirror import mirror_upsert
from connectors.models import ShopCart, ShopConnection, ShopCustomer, ShopOrder, SyncRun
from connectors.shop_client import ShopClient, ShopError, parse_shop_datetime
from connectors.signals import cart_abandoned, order_placed
from contacts.models import ConsentRecord, ConsentStatus
from contacts.normalization import InvalidValue, normalize_email
from contacts.selectors import contacts_of
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
OVERLAP = timedelta(minutes=15)
SHOP_TIME = "%Y-%m-%d %H:%M:%S"
MIRROR_MODELS = {"customers": ShopCustomer, "orders": ShopOrder, "carts": ShopCart}
# A full import refreshes the planner's statistics of the table it fills every this many pages
# (~20,000 rows; ANALYZE of the three looked-up columns: ~50 ms at 100,000 rows).
ANALYZE_EVERY_PAGES = 40
MAX_REJECTION_EXAMPLES = 20
MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)
ORDER_UPDATES = [
    "email", "customer_id", "quote_id", "state", "grand_total", "total_refunded", "currency",
    "created_at", "updated_at",
]  # fmt: skip


class RunLost(Exception):
    """Another run took the connection over (this one's lease had run out)."""


class RunStopped(Exception):
    """The user stopped the run."""


def _proof(connection: ShopConnection, form: str) -> ConsentProof:
    return ConsentProof(
        source=ConsentRecord.Source.CONNECTOR,
        form=f"{connection.get_platform_display()} {connection.shop_url} ({form})"[:200],
        actor=f"connection {connection.pk}",
    )


def entities_for(connection: ShopConnection, kind: str) -> list[str]:
    if kind == SyncRun.Kind.CARTS:
        return ["carts"]
    if connection.data_scope == ShopConnection.DataScope.SIMPLE:
        return ["customers"]
    return ["customers", "orders", "carts"]


def run_claim(run_id: int) -> SyncRun | None:
    """Take the connection for this run, or take over a run whose worker died. None: the run
    must not go on (finished, stopped, or another live run holds the connection)."""
    now = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or not run.is_active:
            return None
        connection = ShopConnection.objects.select_for_update().get(pk=run.connection_id)
        holder = connection.running_run_id
        if holder and holder != run.pk and connection.lease_until and connection.lease_until > now:
            run.status = SyncRun.Status.CANCELLED
            run.finished_at = now
            run.error_code = "already_running"
            run.error_message = _("Another run of this connection is in progress.")
            run.save(update_fields=["status", "finished_at", "error_code", "error_message"])
            return None
        if holder and holder != run.pk:
            # The holder's worker died: this run continues from where it stopped.
            dead = SyncRun.objects.select_for_update().get(pk=holder)
            if dead.is_active and dead.kind == run.kind:
                run.checkpoint = dead.checkpoint
                for name in COUNT_FIELDS:
                    setattr(run, name, getattr(dead, name))
                run.rejections = dead.rejections
            if dead.is_active:
                dead.status = SyncRun.Status.FAILED
                dead.finished_at = now
                dead.error_code = "worker_lost"
                dead.error_message = _("The worker stopped; run #%(id)s took over.") % {
                    "id": run.pk
                }
                dead.save(update_fields=["status", "finished_at", "error_code", "error_message"])
        connection.running_run = run
        connection.lease_until = now + LEASE
        connection.save(update_fields=["running_run", "lease_until"])
        run.status = SyncRun.Status.RUNNING
        run.started_at = run.started_at or now
        run.save()
    return run


COUNT_FIELDS = [
    "customers_read", "orders_read", "carts_read", "subscribers_read", "contacts_created",
    "contacts_updated", "contacts_unchanged", "contacts_rejected",
]  # fmt: skip


def _release(run: SyncRun) -> None:
    ShopConnection.objects.filter(pk=run.connection_id, running_run=run).update(
        running_run=None, lease_until=None
    )


@dataclass
class ContactRows:
    """Contact rows ready for the contacts services, and the addresses among them whose
    customer rows were waiting in the mirror."""

    rows: list[dict]
    customers: set[str]


class PageWriter:
    """Writes one page of records through the contacts services; counts what happened."""

    def __init__(self, connection: ShopConnection, run: SyncRun):
        self.connection = connection
        self.account = connection.account
        self.run = run
        self.counts = Counter()
        self.rejections = Counter()
        self.examples: list[str] = []
        self.declared = {spec.suffix for spec in shop_fields_for(connection)}

    def _email(self, raw: str) -> str | None:
        try:
            return normalize_email(raw) if raw else None
        except InvalidValue as error:
            self._reject(_("invalid email address"), f"{raw!r}: {error}")
            return None

    def _reject(self, reason: str, example: str = "") -> None:
        self.counts["contacts_rejected"] += 1
        self.rejections[str(reason)] += 1
        if example and len(self.examples) < MAX_REJECTION_EXAMPLES:
            self.examples.append(example[:200])

    def _mobile(self, raw: str) -> str:
        if not raw:
            return ""
        try:
            number = phonenumbers.parse(raw, self.account.default_phone_region)
        except phonenumbers.NumberParseException:
            return ""
        # number_type is UNKNOWN for an invalid number: it is the validity check too (calling
        # is_valid_number as well matched the number against its region's patterns twice).
        if phonenumbers.number_type(number) not in MOBILE_TYPES:
            return ""
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def _upsert(self, rows: list[dict], *, form: str, blank_clears: bool, count_unchanged: set):
        """`count_unchanged`: the addresses whose row, if it changed nothing, counts as
        "unchanged" (a customer read again; an address only consolidated does not)."""
        if not rows:
            return []
        outcomes = contacts_bulk_upsert(
            account=self.account,
            rows=rows,
            proof=_proof(self.connection, form),
            blank_clears=blank_clears,
        )
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome.status == "error":
                field, message = next(iter(outcome.errors.items()))
                reasons = "; ".join(f"{k}: {v}" for k, v in outcome.errors.items())
                self._reject(f"{field}: {str(message)[:80]}", f"{row['email']}: {reasons}")
            elif outcome.status == "created":
                self.counts["contacts_created"] += 1
            elif outcome.changed:
                self.counts["contacts_updated"] += 1
            elif row["email"] in count_unchanged:
                self.counts["contacts_unchanged"] += 1
        return outcomes

    def _statuses(self, emails: list[str]) -> dict[str, str]:
        return dict(
            contacts_of(self.account)
            .filter(among("key", emails))
            .values_list("key", "email_status")
        )

    def _fill_emails(self, records) -> None:
        """Orders and carts that carry only a customer id (PrestaShop) take the address of the
        mirrored customer."""
        wanted = {r.customer_id for r in records if not r.email and r.customer_id}
        if not wanted:
            return
        emails = dict(
            ShopCustomer.objects.filter(
                connection=self.connection, external_id__any_of=wanted
            ).values_list("external_id", "email")
        )
        for record in records:
            if not record.email and record.customer_id in emails:
                record.email = emails[record.customer_id]

    def subscribers(self, records) -> None:
        """Newsletter subscribers without a customer account (PrestaShop's module)."""
        self.customers(records, counter=None)

    def customers(self, records, counter: str | None = "customers_read") -> None:
        """Mirror a page of customers and write their contacts; in a full import the contact
        rows wait in the mirror (`profile`) for `_write_imported_contacts`, which writes each
        contact once with its consolidated order and cart fields."""
        connection = self.connection
        deferred = self.run.kind == SyncRun.Kind.FULL
        if counter:
            self.counts[counter] += len(records)
        records = [r for r in records if not r.outside_scope]
        previous = dict(
            ShopCustomer.objects.filter(
                connection=connection, external_id__any_of=[r.external_id for r in records]
            ).values_list("external_id", "is_subscribed")
        )
        rows, mirror = {}, []
        for record in records:
            email = self._email(record.email)
            if email is None:
                continue
            values = {
                "customer_id": record.external_id if counter else None,
                "store_view": record.store_view or None,
                "newsletter": bool(record.is_subscribed),
            }
            if record.created_at and counter:
                values["signup_date"] = record.created_at.date().isoformat()
            updated = _parse(record.updated_at)
            if updated:
                values["last_activity"] = updated.date().isoformat()
            values.update(record.extra_fields)
            fields = {
                field_key(connection, suffix): value
                for suffix, value in values.items()
                if suffix in self.declared
            }
            row = {
                "email": email,
                "first_name": record.first_name[:100],
                "last_name": record.last_name[:100],
                "salutation": record.salutation,
                "birth_date": record.birth_date.isoformat() if record.birth_date else "",
                "mobile": self._mobile(record.address.phone),
                "zip_code": record.address.zip_code[:20],
                "city": record.address.city[:100],
                "country": record.address.country[:100],
                "fields": {k: v for k, v in fields.items() if v is not None},
            }
            was_subscribed = previous.get(record.external_id)
            if record.is_subscribed:
                self.counts["subscribers_read"] += 1
                if not was_subscribed:
                    # Subscribed in the shop since we last looked (or first seen): opt-in.
                    row["email_status"] = ConsentStatus.SUBSCRIBED
            elif was_subscribed and record.is_subscribed is False:
                # Unsubscribed in the shop: the change comes back here.
                row["email_status"] = ConsentStatus.UNSUBSCRIBED
            rows[email] = row
            mirror.append(
                {
                    "connection_id": connection.pk,
                    "external_id": record.external_id,
                    "email": email,
                    "is_subscribed": bool(record.is_subscribed),
                    "store_id": record.store_id,
                    "updated_at": record.updated_at[:19],
                    "profile": row if deferred else None,
                }
            )
        if not deferred:
            self._upsert(
                list(rows.values()), form="customers", blank_clears=False, count_unchanged=set(rows)
            )
        mirror_upsert(
            ShopCustomer,
            mirror,
            update=["email", "is_subscribed", "store_id", "updated_at", "profile"],
        )

    def orders(self, records) -> None:
        connection = self.connection
        self.counts["orders_read"] += len(records)
        self._fill_emails(records)
        mirror, names = [], {}
        for record in records:
            if record.outside_scope:
                continue
            email = self._email(record.email)
            if email is None or record.created_at is None:
                continue
            names.setdefault(email, (record.first_name, record.last_name))
            mirror.append(
                {
                    "connection_id": connection.pk,
                    "external_id": record.external_id,
                    "email": email,
                    "customer_id": record.customer_id,
                    "quote_id": record.quote_id,
                    "first_name": record.first_name[:100],
                    "last_name": record.last_name[:100],
                    "state": record.state[:32],
                    "grand_total": record.grand_total,
                    "total_refunded": record.total_refunded,
                    "currency": record.currency[:3],
                    "created_at": record.created_at,
                    "updated_at": record.updated,
                }
            )
        mirror_upsert(ShopOrder, mirror, update=ORDER_UPDATES)
        quotes = [order["quote_id"] for order in mirror if order["quote_id"]]
        if quotes:
            # A placed order turns its quote into an order: no longer an abandoned cart.
            ShopCart.objects.filter(connection=connection, external_id__any_of=quotes).update(
                is_active=False
            )
        if self.run.kind != SyncRun.Kind.FULL:
            self.consolidate(list(names))
            self._announce_orders(mirror)

    def _announce_orders(self, mirror: list[dict]) -> None:
        # An incremental read also returns old orders that changed (a refund, a shipment):
        # only recent ones are announced as placed.
        recent = timezone.now() - ORDER_ANNOUNCE_WINDOW
        for order in mirror:
            if order["created_at"] >= recent:
                send_on_commit(
                    order_placed,
                    sender=ShopOrder,
                    account_id=self.connection.account_id,
                    email=order["email"],
                    order_key=f"{self.connection.pk}:{order['external_id']}",
                    total=str(order["grand_total"]),
                    currency=order["currency"],
                    created_at=order["created_at"].isoformat(),
                )

    def carts(self, records) -> None:
        connection = self.connection
        self.counts["carts_read"] += len(records)
        self._fill_emails(records)
        mirror = []
        for record in records:
            if record.outside_scope or record.updated is None:
                continue
            email = self._email(record.email)
            if email is None:
                continue
            mirror.append(
                {
                    "connection_id": connection.pk,
                    "external_id": record.external_id,
                    "email": email,
                    "is_active": record.is_active and bool(record.items),
                    "items": record.items,
                    "total": record.total,
                    "currency": record.currency[:3],
                    "updated_at": record.updated,
                }
            )
        mirror_upsert(
            ShopCart,
            mirror,
            update=["email", "is_active", "items", "total", "currency", "updated_at"],
        )
        if self.run.kind != SyncRun.Kind.FULL:
            self.consolidate(sorted({cart["email"] for cart in mirror}))

    def _pending_profiles(self, emails: list[str]) -> dict[str, dict]:
        """The contact rows customer pages left for these addresses (a full import), merged in
        the shop's id order when one address has several customer records."""
        profiles: dict[str, dict] = {}
        for email, profile in (
            ShopCustomer.objects.filter(
                among("email", emails), connection=self.connection, profile__isnull=False
            )
            .order_by("external_id")
            .values_list("email", "profile")
        ):
            merged = profiles.setdefault(email, {"fields": {}})
            # A blank value in the shop leaves the contact's value as it is.
            merged.update({k: v for k, v in profile.items() if k != "fields" and v != ""})
            merged["fields"].update({k: v for k, v in profile["fields"].items() if v != ""})
        return profiles

    def consolidate(self, emails: list[str], *, with_orders: bool = True) -> None:
        """Write these addresses' contacts: the customer rows waiting in the mirror, the
        consolidated order and cart fields (`with_orders`) and the buyer's consent."""
        self.write(self.consolidation_rows(emails, with_orders=with_orders))

    def consolidation_rows(self, emails: list[str], *, with_orders: bool = True) -> ContactRows:
        """What `consolidate` writes, read from the mirror and the contacts; no write.

        A cart alone does not make a contact: an address with neither a contact, a customer
        record nor an order is left out."""
        if not emails:
            return ContactRows([], set())
        connection = self.connection
        statuses = self._statuses(emails)
        profiles = self._pending_profiles(emails)
        values, buyers = consolidation_of(connection, emails) if with_orders else ({}, set())
        emails = [
            email for email in emails if email in statuses or email in buyers or email in profiles
        ]
        names = {}
        new_buyers = [email for email in emails if email not in statuses and email not in profiles]
        if new_buyers:
            for email, first, last in (
                ShopOrder.objects.filter(among("email", new_buyers), connection=connection)
                .order_by("-created_at")
                .values_list("email", "first_name", "last_name")
            ):
                names.setdefault(email, (first, last))
        rows = []
        for email in emails:
            row = {"email": email, "fields": dict(values.get(email, {}))}
            profile = profiles.get(email)
            if profile:
                row.update({k: v for k, v in profile.items() if k != "fields"})
                row["fields"].update(profile["fields"])
            if email in names:
                first, last = names[email]
                row.update(first_name=first, last_name=last)
            current = statuses.get(email, ConsentStatus.NONE)
            if (
                "email_status" not in row
                and email in buyers
                and connection.soft_optin_marketable
                and current == ConsentStatus.NONE
            ):
                row["email_status"] = ConsentStatus.SOFT_OPTIN
            rows.append(row)
        return ContactRows(rows, set(profiles))

    def write(self, contacts: ContactRows) -> None:
        self._upsert(
            contacts.rows, form="orders", blank_clears=True, count_unchanged=contacts.customers
        )
        if contacts.customers:
            ShopCustomer.objects.filter(
                among("email", contacts.customers),
                connection=self.connection,
                profile__isnull=False,
            ).update(profile=None)


def _parse(value: str) -> datetime | None:
    parsed = parse_shop_datetime(value) if isinstance(value, str) else None
    return parsed.replace(tzinfo=UTC) if parsed else None


def _since(connection: ShopConnection, entity: str, kind: str) -> str | None:
    if kind == SyncRun.Kind.FULL:
        return None
    watermark = _parse(connection.watermarks.get(entity, ""))
    if watermark is None:
        return None
    return (watermark - OVERLAP).strftime(SHOP_TIME)


def _commit_page(run: SyncRun, writer: PageWriter, entity: str, state: dict) -> None:
    """Add the page's counts and checkpoint to the run, renew the lease: in the page's
    transaction, and only while this run still holds the connection."""
    now = timezone.now()
    held = ShopConnection.objects.filter(pk=run.connection_id, running_run=run).update(
        lease_until=now + LEASE
    )
    if not held:
        raise RunLost()
    status = SyncRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
    if status == SyncRun.Status.CANCELLED:
        raise RunStopped()
    run.checkpoint[entity] = state
    rejections = dict(run.rejections)
    counts = Counter(rejections.get("reasons", {}))
    counts.update(writer.rejections)
    examples = (rejections.get("examples", []) + writer.examples)[:MAX_REJECTION_EXAMPLES]
    run.rejections = {"reasons": dict(counts), "examples": examples}
    updates = {name: F(name) + writer.counts[name] for name in COUNT_FIELDS if writer.counts[name]}
    SyncRun.objects.filter(pk=run.pk).update(
        checkpoint=run.checkpoint, rejections=run.rejections, expected=run.expected, **updates
    )
    for name in COUNT_FIELDS:
        setattr(run, name, getattr(run, name) + writer.counts[name])


# How many pages the shop is read ahead of the pages written. One was not enough: a page that
# took us longer than the shop left the shop idle, one it served slower left us waiting (at
# 100,000 customers a full import waited 16 s for pages the shop could have served meanwhile).
READ_AHEAD_PAGES = 4


class _PageReader:
    """Reads an entity's pages in a thread of its own, up to READ_AHEAD_PAGES ahead of the
    writer: a page's request depends only on the page before it (keyset). Hands over, in order,
    (page, the state it was asked with, the state after it); an error of the shop comes out
    where its page would have. Touches no database."""

    def __init__(self, client: ShopClient, entity: str, state: dict):
        self.pages: queue.Queue = queue.Queue(maxsize=READ_AHEAD_PAGES)
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._read, args=(client, entity, state), name=f"shop-{entity}", daemon=True
        )
        self.thread.start()

    def _read(self, client: ShopClient, entity: str, state: dict) -> None:
        previous_ids = None
        try:
            while not self.stopped.is_set():
                page = client.fetch_changed(entity, since=state["ts"], page=state["page"])
                ids = [record.external_id for record in page.records]
                if ids and ids == previous_ids:
                    page.records, page.is_last = [], True  # the shop repeated a page: the end
                previous_ids = ids
                after = _next_state(state, page)
                self._hand_over((page, state, after))
                if after.get("done"):
                    return
                state = after
        except BaseException as error:  # the writer raises it in its turn
            self._hand_over(error)

    def _hand_over(self, item) -> None:
        while not self.stopped.is_set():
            try:
                self.pages.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def next(self) -> tuple:
        item = self.pages.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self.stopped.set()


def _sync_entity(run: SyncRun, connection: ShopConnection, client: ShopClient, entity: str):
    state = dict(run.checkpoint.get(entity) or {})
    if state.get("done"):
        return
    if not state:
        state = {"ts": _since(connection, entity, run.kind), "id": 0, "page": 1, "max_ts": None}
    # Read-ahead: the shop's time and ours overlap instead of adding up. A page read ahead and
    # never written (an error, a stop) is simply read again on resume.
    reader = _PageReader(client, entity, state)
    pages_written = 0
    try:
        while True:
            page, asked, state = reader.next()
            if entity not in run.expected and asked["page"] == 1:
                run.expected[entity] = page.total_count
            cursor = (asked["ts"] or "", asked["id"])
            fresh = [r for r in page.records if (r.updated_at[:19], r.external_id) > cursor]
            writer = PageWriter(connection, run)
            with transaction.atomic():
                getattr(writer, entity)(fresh)
                _commit_page(run, writer, entity, dict(state))
            pages_written += 1
            if run.kind == SyncRun.Kind.FULL and pages_written % ANALYZE_EVERY_PAGES == 0:
                _refresh_planner_statistics([MIRROR_MODELS[entity]])
            if state.get("done"):
                return
    finally:
        reader.stop()


def _next_state(state: dict, page) -> dict:
    """Where the read goes on after this page (keyset: the last row's timestamp and id)."""
    state = dict(state)
    if page.records:
        last = page.records[-1]
        last_ts = last.updated_at[:19]
        if state["ts"] is None or last_ts > state["ts"]:
            state.update(ts=last_ts, id=last.external_id, page=1)
        else:
            state.update(id=max(state["id"], last.external_id), page=state["page"] + 1)
        state["max_ts"] = max(state["max_ts"] or "", last_ts)
    if page.is_last or not page.records:
        state["done"] = True
    return state


CONSOLIDATION_BATCH = 1000
# Carts that crossed the abandoned-cart delay since about the previous poll: a cart read before
# it was old enough becomes abandoned without the shop changing it.
RIPENING_WINDOW = timedelta(hours=1)


ORDER_ANNOUNCE_WINDOW = timedelta(days=2)


def _ripen_carts(run: SyncRun, connection: ShopConnection) -> None:
    ripe_before = timezone.now() - timedelta(hours=connection.cart_delay_hours)
    ripe = list(
        ShopCart.objects.filter(
            connection=connection,
            is_active=True,
            updated_at__lte=ripe_before,
            updated_at__gt=ripe_before - RIPENING_WINDOW,
        ).order_by("pk")
    )
    emails = sorted({cart.email for cart in ripe})
    for start in range(0, len(emails), CONSOLIDATION_BATCH):
        writer = PageWriter(connection, run)
        with transaction.atomic():
            writer.consolidate(emails[start : start + CONSOLIDATION_BATCH])
            _commit_page(
                run, writer, "ripening", {"done": start + CONSOLIDATION_BATCH >= len(emails)}
            )
    # After the consolidation made the carts' owners contacts.
    with transaction.atomic():
        for cart in ripe:
            send_on_commit(
                cart_abandoned,
                sender=ShopCart,
                account_id=connection.account_id,
                email=cart.email,
                cart_key=f"{connection.pk}:{cart.external_id}:{cart.updated_at.isoformat()}",
                items=cart.items,
                total=str(cart.total),
                currency=cart.currency,
            )


def _refresh_planner_statistics(models=(ShopCustomer, ShopOrder, ShopCart)) -> None:
    """While and after the bulk load of a full import, PostgreSQL's statistics still describe
    the mirror before it (autovacuum analyses it later, far behind a fast load). Planned for
    near-empty tables, the by-address reads of the contact pass sorted whole connections (18 ms
    a batch instead of 1), and a customer page's look-up of its 500 ids scanned the whole
    growing table (130-230 ms a page at 100,000 customers instead of 1 ms: 17 s of the import).
    Only the columns the engine selects by are sampled (every column took 0.7 s for 20,000
    customers' mirror)."""
    if db_connection.vendor != "postgresql":
        return
    tables = ", ".join(
        f"{model._meta.db_table} (connection_id, external_id, email)" for model in models
    )
    with db_connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _write_imported_contacts(run: SyncRun, connection: ShopConnection, with_orders: bool):
    """After a full import has read the shop: each address once, in batches, checkpointed —
    its customer record and its consolidated orders and carts in one write. (Written per page,
    a contact would be written by its customer page and again for every page holding one of
    its orders: a Magento import of 20,000 customers spent a third of its time writing every
    contact twice.)"""
    state = dict(run.checkpoint.get("consolidation") or {"after": ""})
    if state.get("done"):
        return
    _refresh_planner_statistics()
    sources = [ShopCustomer.objects.filter(connection=connection, profile__isnull=False)]
    if with_orders:
        sources += [
            ShopOrder.objects.filter(connection=connection),
            ShopCart.objects.filter(connection=connection, is_active=True),
        ]

    def prepare(after: str) -> tuple[list[str], ContactRows]:
        batch = set()
        for source in sources:
            batch.update(
                source.filter(email__gt=after)
                .order_by("email")
                .values_list("email", flat=True)
                .distinct()[:CONSOLIDATION_BATCH]
            )
        batch = sorted(batch)[:CONSOLIDATION_BATCH]
        rows = PageWriter(connection, run).consolidation_rows(batch, with_orders=with_orders)
        return batch, rows

    # Pipelined on PostgreSQL: a helper thread (its own database connection) reads the next
    # batch while this one is written; batches hold different addresses, so the reads do not
    # depend on the write. Inside a transaction (the tests' own) the helper could not see the
    # data: one batch after the other then.
    pipelined = db_connection.vendor == "postgresql" and not db_connection.in_atomic_block
    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contacts-pass")
    try:
        prepared = prepare(state["after"])
        while True:
            batch, rows = prepared
            last_batch = len(batch) < CONSOLIDATION_BATCH
            ahead = helper.submit(prepare, batch[-1]) if pipelined and not last_batch else None
            writer = PageWriter(connection, run)
            with transaction.atomic():
                writer.write(rows)
                if batch:
                    state["after"] = batch[-1]
                if last_batch:
                    state["done"] = True
                _commit_page(run, writer, "consolidation", dict(state))
            if state.get("done"):
                return
            prepared = ahead.result() if ahead else prepare(state["after"])
    finally:
        if pipelined:
            helper.submit(lambda: db_connection.close())  # the helper thread's own connection
        helper.shutdown(wait=True)


def sync_run_execute(run_id: int, client_factory) -> SyncRun | None:
    """Run (or resume) one sync run to its end. `client_factory(connection)` gives the shop
    client (connectors.platforms.shop_client_for; the tests pass the same)."""
    run = run_claim(run_id)
    if run is None:
        return None
    connection = ShopConnection.objects.select_related("account").get(pk=run.connection_id)
    try:
        client = client_factory(connection)
        shop_fields_ensure(connection)
        shop_segments_ensure(connection)
        entities = entities_for(connection, run.kind)
        if run.kind != SyncRun.Kind.CARTS and hasattr(client, "optional_entities"):
            entities += client.optional_entities()
        for entity in entities:
            _sync_entity(run, connection, client, entity)
        if run.kind == SyncRun.Kind.FULL:
            _write_imported_contacts(run, connection, with_orders="orders" in entities)
        if run.kind == SyncRun.Kind.CARTS:
            _ripen_carts(run, connection)
        run_finish(run, connection)
    except RunLost:
        logger.warning("sync run %s lost its connection to another run", run.pk)
    except RunStopped:
        _release(run)
    except ShopError as error:
        run_fail(run, error.code, f"{error.message} {error.detail}".strip())
    except Exception as error:
        logger.exception("sync run %s failed", run.pk)
        run_fail(
            run, "internal_error", _("Internal error: %(type)s") % {"type": type(error).__name__}
        )
        raise
    run.refresh_from_db()
    return run


def run_finish(run: SyncRun, connection: ShopConnection) -> None:
    now = timezone.now()
    with transaction.atomic():
        locked = ShopConnection.objects.select_for_update().get(pk=connection.pk)
        watermarks = dict(locked.watermarks)
        for entity, state in run.checkpoint.items():
            if state.get("max_ts") and state["max_ts"] > watermarks.get(entity, ""):
                watermarks[entity] = state["max_ts"]
        locked.watermarks = watermarks
        if run.kind != SyncRun.Kind.CARTS:
            locked.next_run_at = now + timedelta(hours=locked.sync_interval_hours)
        if locked.running_run_id == run.pk:
            locked.running_run = None
            locked.lease_until = None
        locked.save(update_fields=["watermarks", "next_run_at", "running_run", "lease_until"])
        SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.SUCCEEDED, finished_at=now
        )


def run_fail(run: SyncRun, code: str, message: str) -> None:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED, finished_at=now, error_code=code[:40], error_message=message
    )
    _release(run)
