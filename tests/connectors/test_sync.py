import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.models import ShopConnection, SyncRun
from connectors.services import connection_create, sync_start
from connectors.sync import sync_run_execute
from contacts.models import ConsentRecord, ConsentStatus, Contact, ContactField, Segment
from contacts.normalization import normalize_email
from tests.connectors.conftest import SIMULATOR_CREDENTIALS, fast_client


def run_sync(connection, kind=None):
    run = sync_start(connection=connection, kind=kind)
    return sync_run_execute(run.pk, fast_client)


@pytest.mark.django_db(transaction=True)
def test_full_import_then_delta(account, shop, connection):
    # when
    run = run_sync(connection)
    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.kind == SyncRun.Kind.FULL
    assert run.customers_read == len(shop.customers)
    assert run.orders_read == len(shop.orders)
    buyer_emails = {o.email.lower() for o in shop.orders.values()}
    customer_emails = {c.email.lower() for c in shop.customers.values()}
    assert Contact.objects.filter(account=account).count() == len(customer_emails | buyer_emails)
    assert ContactField.objects.filter(account=account, key="mb_revenue", type="decimal").exists()
    assert Segment.objects.filter(account=account, name__startswith="[MB]").count() == 11
    connection.refresh_from_db()
    assert connection.running_run is None
    assert set(connection.watermarks) == {"customers", "orders", "carts"}

    # given one customer changed in the shop
    customer = next(iter(shop.customers.values()))
    shop.update_customer(customer.id, lastname="Nouveau-Nom")
    # when
    delta = run_sync(connection)
    # then only the overlap window and the change are read again
    assert delta.kind == SyncRun.Kind.DELTA
    assert delta.status == SyncRun.Status.SUCCEEDED
    assert 1 <= delta.customers_read < len(shop.customers) / 2
    assert (
        Contact.objects.get(account=account, key=normalize_email(customer.email)).last_name
        == "Nouveau-Nom"
    )


@pytest.mark.django_db(transaction=True)
def test_consolidated_values_match_hand_computed_ones(account):
    # given a customer with four orders: one cancelled, one refunded, one partly refunded
    shop = MagentoShop(customers=0, seed=1)
    sim = MagentoSimulator(shop).start()
    try:
        connection = connection_create(
            account=account, name="Main", shop_url=sim.url, credentials=SIMULATOR_CREDENTIALS
        )
        jeanne = shop.add_customer(
            email="Jeanne.Lefevre@Exemple.fr", firstname="Jeanne", lastname="Lefèvre",
            gender=2, dob="1985-03-14", is_subscribed=True,
            created_at=datetime(2025, 1, 2, 10, tzinfo=UTC),
            address={"telephone": "06 12 34 56 78", "postcode": "69003", "city": "Lyon",
                     "country_id": "FR"},
        )  # fmt: skip
        line = [("MUG", "Mug", 1, 100.0)]
        shop.add_order(customer_id=jeanne.id, lines=line, state="complete",
                       created_at=datetime(2026, 1, 10, 9, tzinfo=UTC),
                       updated_at=datetime(2026, 1, 12, 9, tzinfo=UTC))  # fmt: skip
        shop.add_order(customer_id=jeanne.id, lines=[("MUG", "Mug", 1, 40.0)], state="canceled",
                       created_at=datetime(2026, 2, 1, 9, tzinfo=UTC))  # fmt: skip
        shop.add_order(customer_id=jeanne.id, lines=[("MUG", "Mug", 1, 60.0)], state="closed",
                       created_at=datetime(2026, 2, 15, 9, tzinfo=UTC))  # fmt: skip
        shop.add_order(customer_id=jeanne.id, lines=[("MUG", "Mug", 2, 25.0)], state="complete",
                       shipping=5.0, refunded=10.0,
                       created_at=datetime(2026, 3, 11, 9, tzinfo=UTC),
                       updated_at=datetime(2026, 3, 13, 18, tzinfo=UTC))  # fmt: skip
        cart_time = datetime.now(UTC) - timedelta(hours=5)
        shop.add_cart(customer_id=jeanne.id, lines=[("THE", "Thé vert", 2, 8.4)],
                      updated_at=cart_time)  # fmt: skip
        shop.add_order(email="invite@exemple.fr", lines=line, state="processing",
                               created_at=datetime(2026, 4, 1, 9, tzinfo=UTC))  # fmt: skip
        # when
        run = run_sync(connection)
    finally:
        sim.stop()
    # then (by hand: 100 + (55 − 10) = 145; orders 10 Jan and 11 Mar: 60 days apart)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    contact = Contact.objects.get(account=account, key="jeanne.lefevre@exemple.fr")
    assert contact.first_name == "Jeanne" and contact.last_name == "Lefèvre"
    assert contact.salutation == "mrs"
    assert contact.birth_date.isoformat() == "1985-03-14"
    assert str(contact.mobile) == "+33612345678"
    assert contact.zip_code == "69003" and contact.city == "Lyon"
    fields = contact.fields
    assert fields["mb_revenue"] == 145.0
    assert fields["mb_total_orders"] == 2
    assert fields["mb_first_order"] == "2026-01-10"
    assert fields["mb_last_order"] == "2026-03-11"
    assert fields["mb_last_order_amount"] == 55.0
    assert fields["mb_avg_days_between_orders"] == 60.0
    assert fields["mb_last_delivery"] == "2026-03-13"
    local_day = cart_time.astimezone(zoneinfo.ZoneInfo(account.timezone)).date()
    assert fields["mb_last_abandoned_cart"] == local_day.isoformat()
    assert fields["mb_cart_total"] == 16.8
    assert fields["mb_newsletter"] is True
    assert fields["mb_store_view"] == "Boutique France"
    assert fields["mb_customer_id"] == jeanne.id
    # consent: the subscriber is opted in with the shop as source; the guest buyer soft opt-in
    assert contact.email_status == ConsentStatus.SUBSCRIBED
    assert ConsentRecord.objects.filter(
        contact=contact, source=ConsentRecord.Source.CONNECTOR, status="subscribed"
    ).exists()
    guest_contact = Contact.objects.get(account=account, key="invite@exemple.fr")
    assert guest_contact.email_status == ConsentStatus.SOFT_OPTIN
    assert guest_contact.fields["mb_total_orders"] == 1
    assert "mb_customer_id" not in guest_contact.fields


@pytest.mark.django_db(transaction=True)
def test_bad_credentials_fail_the_run_clearly_and_release_the_connection(connection, simulator):
    simulator.consumer_secret = "changed-in-magento"
    run = run_sync(connection)
    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "unauthorized"
    assert "Magento_Customer::customer" in run.error_message
    connection.refresh_from_db()
    assert connection.running_run is None
    assert ShopConnection.objects.get(pk=connection.pk).running_run_id is None


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the engine catches it, nothing is cleaned up."""


def killing_client(after_pages):
    calls = {"n": 0}

    def factory(connection):
        client = fast_client(connection)
        fetch = client.fetch_changed

        def fetch_then_die(entity, **kwargs):
            calls["n"] += 1
            if calls["n"] > after_pages:
                raise WorkerKilled()
            return fetch(entity, **kwargs)

        client.fetch_changed = fetch_then_die
        return client

    return factory


@pytest.mark.django_db(transaction=True)
def test_a_killed_run_is_resumed_with_nothing_lost_or_doubled(account, shop, connection):
    # given a worker killed after 5 committed pages (3 of customers, 2 of orders)
    run = sync_start(connection=connection)
    with pytest.raises(WorkerKilled):
        sync_run_execute(run.pk, killing_client(after_pages=5))
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING
    assert run.checkpoint["customers"]["done"]
    assert run.checkpoint["orders"]["ts"] and not run.checkpoint["orders"].get("done")
    assert 0 < run.orders_read < len(shop.orders)
    # a new run cannot start while the dead worker's lease holds
    second = SyncRun.objects.create(account=account, connection=connection, kind=run.kind)
    assert sync_run_execute(second.pk, fast_client) is None
    second.refresh_from_db()
    assert second.error_code == "already_running"
    # when the lease has run out, the redelivered task resumes
    ShopConnection.objects.filter(pk=connection.pk).update(
        lease_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    resumed = SyncRun.objects.create(account=account, connection=connection, kind=run.kind)
    resumed = sync_run_execute(resumed.pk, fast_client)
    # then
    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error_message
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error_code == "worker_lost"
    assert resumed.customers_read == len(shop.customers)
    assert resumed.orders_read == len(shop.orders)
    emails = {c.email.lower() for c in shop.customers.values()} | {
        o.email.lower() for o in shop.orders.values()
    }
    assert Contact.objects.filter(account=account).count() == len(emails)
    subscribers = {c.email.lower() for c in shop.customers.values() if c.is_subscribed}
    ledger = ConsentRecord.objects.filter(account=account, status="subscribed")
    assert ledger.count() == len(subscribers)


@pytest.mark.django_db(transaction=True)
def test_unsubscribed_here_is_never_resubscribed_and_changes_in_magento_come_back(
    account, shop, connection
):
    from contacts.services.consent import ConsentProof, consent_change

    run_sync(connection)
    subscriber = next(c for c in shop.customers.values() if c.is_subscribed)
    contact = Contact.objects.get(account=account, key=normalize_email(subscriber.email))
    assert contact.email_status == ConsentStatus.SUBSCRIBED
    # given the person unsubscribes here
    consent_change(
        contact=contact,
        channel="email",
        status=ConsentStatus.UNSUBSCRIBED,
        proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE),
    )
    # when the shop still says subscribed, and even re-subscribes them later
    shop.update_customer(subscriber.id, is_subscribed=False)
    run_sync(connection)
    shop.update_customer(subscriber.id, is_subscribed=True)
    run_sync(connection, kind=SyncRun.Kind.FULL)
    # then
    contact.refresh_from_db()
    assert contact.email_status == ConsentStatus.UNSUBSCRIBED

    # given another subscriber who unsubscribes in Magento
    other = next(c for c in shop.customers.values() if c.is_subscribed and c.id != subscriber.id)
    shop.update_customer(other.id, is_subscribed=False)
    run_sync(connection)
    other_contact = Contact.objects.get(account=account, key=normalize_email(other.email))
    assert other_contact.email_status == ConsentStatus.UNSUBSCRIBED
    assert other_contact.fields["mb_newsletter"] is False


@pytest.mark.django_db(transaction=True)
def test_account_only_customers_are_not_marketable_and_soft_optin_is_an_option(
    account, shop, connection
):
    run_sync(connection)
    buyers = {o.email.lower() for o in shop.orders.values()}
    account_only = next(
        c for c in shop.customers.values() if c.email.lower() not in buyers and not c.is_subscribed
    )
    buyer = next(
        c for c in shop.customers.values() if c.email.lower() in buyers and not c.is_subscribed
    )
    statuses = dict(Contact.objects.filter(account=account).values_list("key", "email_status"))
    assert statuses[normalize_email(account_only.email)] == ConsentStatus.NONE
    assert statuses[normalize_email(buyer.email)] == ConsentStatus.SOFT_OPTIN


@pytest.mark.django_db(transaction=True)
def test_opt_out_write_back_round_trip_without_loop(account, shop, connection):
    from connectors.services import connection_update
    from connectors.write_back import opt_out_write_back
    from contacts.services.consent import ConsentProof, consent_change

    connection_update(connection=connection, write_back=True)
    run_sync(connection)
    subscriber = next(c for c in shop.customers.values() if c.is_subscribed and c.addresses)
    contact = Contact.objects.get(account=account, key=normalize_email(subscriber.email))
    # when the person unsubscribes here
    consent_change(
        contact=contact,
        channel="email",
        status=ConsentStatus.UNSUBSCRIBED,
        proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE),
    )
    written = opt_out_write_back(
        account_id=account.pk, contact_id=contact.pk, client_factory=fast_client
    )
    # then Magento has it, addresses kept, and the next sync changes nothing here
    assert written == 1
    assert shop.customers[subscriber.id].is_subscribed is False
    assert shop.customers[subscriber.id].addresses
    ledger_before = ConsentRecord.objects.filter(contact=contact).count()
    delta = run_sync(connection)
    assert delta.status == SyncRun.Status.SUCCEEDED
    contact.refresh_from_db()
    assert contact.email_status == ConsentStatus.UNSUBSCRIBED
    assert ConsentRecord.objects.filter(contact=contact).count() == ledger_before
    # a second write-back has nothing left to do
    assert (
        opt_out_write_back(account_id=account.pk, contact_id=contact.pk, client_factory=fast_client)
        == 0
    )


@pytest.mark.django_db(transaction=True)
def test_abandoned_cart_polling_and_a_later_order_clears_the_cart(account):
    from connectors.selectors import abandoned_cart

    shop = MagentoShop(customers=0, seed=1)
    sim = MagentoSimulator(shop).start()
    try:
        connection = connection_create(
            account=account, name="Carts", shop_url=sim.url, credentials=SIMULATOR_CREDENTIALS
        )
        now = datetime.now(UTC)
        marie = shop.add_customer(email="marie@exemple.fr", firstname="Marie",
                                  created_at=now - timedelta(days=30))  # fmt: skip
        shop.add_order(customer_id=marie.id, lines=[("MUG", "Mug", 1, 10.0)],
                       created_at=now - timedelta(days=10))  # fmt: skip
        run_sync(connection)
        # given a cart left 1 hour ago (not yet abandoned at a 3-hour delay)
        cart = shop.add_cart(customer_id=marie.id, lines=[("THE", "Thé vert", 2, 8.4)],
                             updated_at=now - timedelta(hours=1))  # fmt: skip
        polled = run_sync(connection, kind=SyncRun.Kind.CARTS)
        assert polled.carts_read == 1
        contact = Contact.objects.get(account=account, key="marie@exemple.fr")
        assert "mb_last_abandoned_cart" not in contact.fields
        # when 2.5 more hours pass (moved back in time: in the shop and in what was read), the
        # next poll sees it ripe although the shop has nothing new to say about it
        from connectors.models import ShopCart

        earlier = now - timedelta(hours=3, minutes=30)
        cart.updated_at = earlier.strftime("%Y-%m-%d %H:%M:%S")
        shop.index["carts"].touch()
        ShopCart.objects.filter(external_id=cart.id).update(updated_at=earlier)
        connection.refresh_from_db()
        ShopConnection.objects.filter(pk=connection.pk).update(
            watermarks={**connection.watermarks, "carts": cart.updated_at}
        )
        polled = run_sync(connection, kind=SyncRun.Kind.CARTS)
        contact.refresh_from_db()
        assert contact.fields["mb_last_abandoned_cart"]
        assert contact.fields["mb_cart_total"] == 16.8
        content = abandoned_cart(connection, "marie@exemple.fr")
        assert content["items"][0]["name"] == "Thé vert" and content["total"] == "16.8000"
        assert content["url"] == f"{sim.url}/checkout/cart/"
        # a later order clears the cart
        shop.add_order(customer_id=marie.id, lines=[("THE", "Thé vert", 2, 8.4)], quote_id=cart.id)
        run_sync(connection)
        contact.refresh_from_db()
        assert "mb_last_abandoned_cart" not in contact.fields
        assert abandoned_cart(connection, "marie@exemple.fr") is None
    finally:
        sim.stop()


WORKER_SCRIPT = """
import sys
import django
django.setup()
from connectors.platforms import shop_client_for
from connectors.sync import sync_run_execute
sync_run_execute(int(sys.argv[1]), lambda c: shop_client_for(c, rate_per_second=0, page_size=20))
"""


def _database_url() -> str:
    from django.db import connection as db

    settings = db.settings_dict
    if db.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings.get('PASSWORD') or ''}@{settings['HOST']}:"
        f"{settings['PORT']}/{settings['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_process_is_resumed_with_nothing_lost_or_doubled(
    account, shop, simulator, connection
):
    import os
    import signal
    import subprocess
    import sys
    import time

    # given a worker process syncing, slowed down by the shop, killed with SIGKILL mid-orders
    simulator.faults.delay_seconds = 0.03
    run = sync_start(connection=connection)
    environment = {**os.environ, "DATABASE_URL": _database_url(),
                   "DJANGO_SETTINGS_MODULE": "sendethic.settings"}  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, str(run.pk)], env=environment, cwd=os.getcwd()
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.orders_read >= 60:
            break
        assert worker.poll() is None, "the worker ended before it could be killed"
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and 0 < run.orders_read < len(shop.orders)
    # when the lease runs out and the task is delivered again
    simulator.faults.delay_seconds = 0
    ShopConnection.objects.filter(pk=connection.pk).update(
        lease_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    resumed = SyncRun.objects.create(account=account, connection=connection, kind=run.kind)
    resumed = sync_run_execute(resumed.pk, fast_client)
    # then every customer and order is there once, and the counts add up
    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error_message
    assert resumed.customers_read == len(shop.customers)
    assert resumed.orders_read >= len(shop.orders)  # at most the killed page is read twice
    assert resumed.orders_read <= len(shop.orders) + 20
    from connectors.models import ShopOrder

    assert ShopOrder.objects.filter(connection=connection).count() == len(shop.orders)
    emails = {normalize_email(c.email) for c in shop.customers.values()} | {
        normalize_email(o.email) for o in shop.orders.values()
    }
    assert Contact.objects.filter(account=account).count() == len(emails)
    subscribers = {c.email for c in shop.customers.values() if c.is_subscribed}
    ledger = ConsentRecord.objects.filter(account=account, status="subscribed")
    assert ledger.count() == len(subscribers)


@pytest.mark.django_db(transaction=True)
def test_unsubscribe_here_is_written_back_by_the_task(account, shop, connection):
    from connectors.services import connection_update
    from contacts.services.consent import ConsentProof, consent_change
    from sendethic.celery import app

    connection_update(connection=connection, write_back=True)
    run_sync(connection)
    subscriber = next(c for c in shop.customers.values() if c.is_subscribed)
    contact = Contact.objects.get(account=account, key=normalize_email(subscriber.email))
    app.conf.task_always_eager = True
    try:
        consent_change(
            contact=contact,
            channel="email",
            status=ConsentStatus.UNSUBSCRIBED,
            proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE),
        )
    finally:
        app.conf.task_always_eager = False
    assert shop.customers[subscriber.id].is_subscribed is False


@pytest.mark.django_db(transaction=True)
def test_a_stopped_run_ends_at_its_next_page_and_releases_the_connection(shop, connection):
    from connectors.services import sync_stop

    run = sync_start(connection=connection)

    def stopping_client(conn):
        client = fast_client(conn)
        fetch = client.fetch_changed

        def fetch_and_stop(entity, **kwargs):
            page = fetch(entity, **kwargs)
            sync_stop(run=SyncRun.objects.get(pk=run.pk))
            return page

        client.fetch_changed = fetch_and_stop
        return client

    sync_run_execute(run.pk, stopping_client)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED
    assert run.customers_read == 0  # the page in flight is not committed
    connection.refresh_from_db()
    assert connection.running_run is None
    # and the next run may start
    assert sync_start(connection=connection).status == SyncRun.Status.QUEUED


@pytest.mark.django_db
def test_accounts_keyed_on_mobile_cannot_connect_a_shop(account):
    from accounts.errors import ServiceError

    account.contact_key = "mobile"
    account.save()
    with pytest.raises(ServiceError):
        connection_create(
            account=account,
            name="X",
            shop_url="https://x.example",
            credentials=SIMULATOR_CREDENTIALS,
        )


@pytest.mark.django_db(transaction=True)
def test_a_full_import_writes_each_contact_once(account, shop, connection):
    # given receivers of the contacts' domain events
    from contacts.signals import contact_created, contact_updated

    created, updated = [], []

    def on_created(sender, contact_id, **kwargs):
        created.append(contact_id)

    def on_updated(sender, contact_id, **kwargs):
        updated.append(contact_id)

    contact_created.connect(on_created)
    contact_updated.connect(on_updated)
    try:
        # when the first import reads the shop
        run = run_sync(connection)
    finally:
        contact_created.disconnect(on_created)
        contact_updated.disconnect(on_updated)
    # then every contact was created with its customer record and consolidated orders at once
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    contacts = Contact.objects.filter(account=account)
    assert sorted(created) == sorted(contacts.values_list("pk", flat=True))
    assert updated == []
    assert run.contacts_created == contacts.count() and run.contacts_updated == 0
    buyer = next(o for o in shop.orders.values() if o.customer_id in shop.customers)
    contact = contacts.get(key=normalize_email(buyer.email))
    assert contact.fields["mb_customer_id"] == buyer.customer_id
    assert contact.fields["mb_total_orders"] >= 1
    # and no customer row is left waiting in the mirror
    from connectors.models import ShopCustomer

    assert not ShopCustomer.objects.filter(connection=connection, profile__isnull=False).exists()


def _requests_made_while_the_first_page_is_written(connection, monkeypatch, wanted, page_size):
    """Runs a full import whose first page's commit waits (up to 5 s) until the shop client has
    received `wanted` requests; True if it had by then."""
    import threading

    from connectors import sync

    requests_made = []
    enough = threading.Event()

    def noting_client(conn):
        client = fast_client(conn)
        if page_size:
            client.page_size = page_size
        fetch = client.fetch_changed

        def noted_fetch(entity, **kwargs):
            requests_made.append(entity)
            if len(requests_made) == wanted:
                enough.set()
            return fetch(entity, **kwargs)

        client.fetch_changed = noted_fetch
        return client

    waited = []
    commit_page = sync._commit_page

    def committing_first_page(run, writer, entity, state):
        if not waited:
            waited.append(enough.wait(timeout=5))
        return commit_page(run, writer, entity, state)

    monkeypatch.setattr(sync, "_commit_page", committing_first_page)
    run = sync_run_execute(sync_start(connection=connection).pk, noting_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    return waited == [True], len(requests_made)


@pytest.mark.django_db(transaction=True)
def test_the_next_page_is_read_while_the_current_one_is_written(connection, monkeypatch):
    # when: the first page's commit waits for a second request
    overlapped, _requests = _requests_made_while_the_first_page_is_written(
        connection, monkeypatch, wanted=2, page_size=None
    )
    # then: the second page was on its way while the first was written
    assert overlapped


@pytest.mark.django_db(transaction=True)
def test_a_full_import_of_simple_data_writes_the_customers_without_orders(
    account, shop, connection
):
    # given a connection that reads customers only
    connection.data_scope = ShopConnection.DataScope.SIMPLE
    connection.save(update_fields=["data_scope"])
    # when
    run = run_sync(connection)
    # then every customer is a contact, with its customer fields and no order figures
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.orders_read == 0
    customer_emails = {normalize_email(c.email) for c in shop.customers.values()}
    contacts = Contact.objects.filter(account=account)
    assert set(contacts.values_list("key", flat=True)) == customer_emails
    assert run.contacts_created == len(customer_emails)
    customer = next(iter(shop.customers.values()))
    fields = contacts.get(key=normalize_email(customer.email)).fields
    assert fields["mb_customer_id"] == customer.id
    assert "mb_total_orders" not in fields
    from connectors.models import ShopCustomer

    assert not ShopCustomer.objects.filter(connection=connection, profile__isnull=False).exists()


def test_the_shop_is_read_several_pages_ahead_of_the_pages_written(connection, monkeypatch):
    # given: customers over six pages; when: the first page's commit waits for four requests
    overlapped, requests = _requests_made_while_the_first_page_is_written(
        connection, monkeypatch, wanted=4, page_size=20
    )
    # then: the page being written and (at least) the three after it had been asked for
    assert overlapped
    assert requests > 4
