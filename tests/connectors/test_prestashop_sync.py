"""PrestaShop shops through the one sync engine, per version toggle (1.6 XML, 1.7, 8)."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from connectors.credentials import ShopCredentials
from connectors.models import Platform, ShopConnection, ShopCustomer, SyncRun
from connectors.platforms import shop_client_for
from connectors.prestashop.client import GUEST_ID_OFFSET
from connectors.prestashop.simulator import (
    ALL_PERMISSIONS,
    SIMULATOR_KEY,
    PrestaShopShop,
    PrestaShopSimulator,
)
from connectors.services import connection_create, connection_update, sync_start
from connectors.sync import sync_run_execute
from contacts.models import ConsentRecord, ConsentStatus, Contact, ContactField, Segment
from contacts.normalization import normalize_email

VERSIONS = ["1.6", "1.7", "8"]
KEY = ShopCredentials(access_token=SIMULATOR_KEY)


def fast_client(connection):
    return shop_client_for(connection, rate_per_second=0, backoff_base=0.01, page_size=40)


def run_sync(connection, kind=None, factory=fast_client):
    run = sync_start(connection=connection, kind=kind)
    return sync_run_execute(run.pk, factory)


def connect(account, simulator, **options):
    return connection_create(
        account=account, name=options.pop("name", "Boutique PS"), platform=Platform.PRESTASHOP,
        shop_url=simulator.url, credentials=KEY, **options,
    )  # fmt: skip


@pytest.fixture
def serve():
    started = []

    def start(shop, **options):
        simulator = PrestaShopSimulator(shop, **options).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


def emails_of(shop, shop_ids=None):
    customers = shop.tables["customers"].values()
    return {
        normalize_email(c["email"])
        for c in customers
        if shop_ids is None or c["id_shop"] in shop_ids
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", VERSIONS)
def test_full_import_then_delta(account, serve, version):
    shop = PrestaShopShop(customers=90, seed=7)
    simulator = serve(shop, version=version)
    connection = connect(account, simulator)
    # when
    run = run_sync(connection)
    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.customers_read == len(shop.tables["customers"])
    assert run.orders_read == len(shop.tables["orders"])
    assert run.carts_read == len(shop.tables["carts"])
    guests = {normalize_email(s["email"]) for s in shop.tables["sendethic_subscribers"].values()}
    assert guests
    contacts = Contact.objects.filter(account=account)
    assert set(contacts.values_list("key", flat=True)) == emails_of(shop) | guests
    ps_fields = ContactField.objects.filter(account=account, key__startswith="ps_")
    assert ps_fields.count() == 14  # + 7 contact columns: the seed's 21 [PS] fields
    assert Segment.objects.filter(account=account, name__startswith="[PS]").count() == 11
    connection.refresh_from_db()
    assert connection.running_run is None
    assert set(connection.watermarks) == {"customers", "orders", "carts", "subscribers"}

    # given a customer changed and an order delivered in the shop
    customer = next(iter(shop.tables["customers"].values()))
    shop.update_customer(customer["id"], lastname="Nouveau-Nom")
    order = next(o for o in shop.tables["orders"].values() if o["current_state"] == 2)
    shop.set_order_state(order["id"], 5)
    # when
    delta = run_sync(connection)
    # then only the overlap window and the changes are read again
    assert delta.kind == SyncRun.Kind.DELTA and delta.status == SyncRun.Status.SUCCEEDED
    assert 1 <= delta.customers_read < len(shop.tables["customers"]) / 2
    assert 1 <= delta.orders_read < len(shop.tables["orders"]) / 2
    changed = Contact.objects.get(account=account, key=normalize_email(customer["email"]))
    assert changed.last_name == "Nouveau-Nom"
    buyer = shop.tables["customers"][order["id_customer"]]
    delivered = Contact.objects.get(account=account, key=normalize_email(buyer["email"]))
    tz = zoneinfo.ZoneInfo(account.timezone)
    assert (
        delivered.fields["ps_last_delivery"] == datetime.now(UTC).astimezone(tz).date().isoformat()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", VERSIONS)
def test_consolidated_values_match_hand_computed_ones(account, serve, version):
    shop = PrestaShopShop(customers=0, guest_subscribers=0, seed=1, multistore=True)
    jeanne = shop.add_customer(
        email="Jeanne.Lefevre@Exemple.fr", firstname="Jeanne", lastname="Lefèvre", id_gender=2,
        birthday="1985-03-14", newsletter=True, groups=(3, 4), id_shop=2,
        created_at=datetime(2025, 1, 2, 10, tzinfo=UTC),
        updated_at=datetime(2026, 4, 2, 22, 30, tzinfo=UTC),
        address={"phone_mobile": "06 12 34 56 78", "postcode": "69003", "city": "Lyon"},
    )  # fmt: skip
    mug = [("MUG-CERAM", "Mug en céramique", 1, 100.0)]
    shop.add_order(customer_id=jeanne["id"], lines=mug, state=5,
                   created_at=datetime(2026, 1, 10, 9, tzinfo=UTC),
                   updated_at=datetime(2026, 1, 12, 9, tzinfo=UTC))  # fmt: skip
    shop.add_order(customer_id=jeanne["id"], lines=[("MUG-CERAM", "Mug", 1, 40.0)], state=6,
                   created_at=datetime(2026, 2, 1, 9, tzinfo=UTC))  # fmt: skip
    shop.add_order(customer_id=jeanne["id"], lines=[("MUG-CERAM", "Mug", 1, 60.0)], state=7,
                   created_at=datetime(2026, 2, 15, 9, tzinfo=UTC))  # fmt: skip
    shop.add_order(customer_id=jeanne["id"], lines=[("MUG-CERAM", "Mug", 2, 25.0)], state=5,
                   shipping=5.0, created_at=datetime(2026, 3, 11, 9, tzinfo=UTC),
                   updated_at=datetime(2026, 3, 13, 23, 30, tzinfo=UTC))  # fmt: skip
    cart_time = datetime.now(UTC) - timedelta(hours=5)
    shop.add_cart(customer_id=jeanne["id"], lines=[("THE-VERT", "Thé", 2, 8.4)],
                  updated_at=cart_time)  # fmt: skip
    guest = shop.add_customer(email="invite@exemple.fr", firstname="Invité", lastname="X",
                              is_guest=True)  # fmt: skip
    shop.add_order(customer_id=guest["id"], lines=mug, state=2,
                   created_at=datetime(2026, 4, 1, 9, tzinfo=UTC))  # fmt: skip
    shop.add_guest_subscriber(email="Lecteur@Exemple.fr")
    simulator = serve(shop, version=version)
    connection = connect(account, simulator)
    # when
    run = run_sync(connection)
    # then (by hand: delivered 100 + delivered 55 = 155; the cancelled 40 and refunded 60 are
    # not revenue; orders 10 Jan and 11 Mar: 60 days apart; delivered 13 Mar 23:30 UTC)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    tz = zoneinfo.ZoneInfo(account.timezone)
    contact = Contact.objects.get(account=account, key="jeanne.lefevre@exemple.fr")
    assert contact.first_name == "Jeanne" and contact.last_name == "Lefèvre"
    assert contact.salutation == "mrs"
    assert contact.birth_date.isoformat() == "1985-03-14"
    assert str(contact.mobile) == "+33612345678"
    assert contact.zip_code == "69003"
    fields = contact.fields
    assert fields["ps_revenue"] == 155.0
    assert fields["ps_total_orders"] == 2
    assert fields["ps_first_order"] == "2026-01-10"
    assert fields["ps_last_order"] == "2026-03-11"
    assert fields["ps_last_order_amount"] == 55.0
    assert fields["ps_avg_days_between_orders"] == 60.0
    delivered = datetime(2026, 3, 13, 23, 30, tzinfo=UTC).astimezone(tz).date()
    assert fields["ps_last_delivery"] == delivered.isoformat()
    assert fields["ps_last_abandoned_cart"] == cart_time.astimezone(tz).date().isoformat()
    assert fields["ps_newsletter"] is True
    assert fields["ps_customer_id"] == jeanne["id"]
    assert fields["ps_group_ids"] == "3,4"
    assert fields["ps_shop_id"] == 2
    assert fields["ps_signup_date"] == "2025-01-02"
    login = datetime(2026, 4, 2, 22, 30, tzinfo=UTC)  # the record's update, shop clock → UTC
    assert fields["ps_last_login"] == login.date().isoformat()
    assert "ps_cart_total" not in fields and "ps_store_view" not in fields
    # consent: the subscriber opted in with the shop as source; the guest buyer soft opt-in
    assert contact.email_status == ConsentStatus.SUBSCRIBED
    assert ConsentRecord.objects.filter(
        contact=contact, source=ConsentRecord.Source.CONNECTOR, status="subscribed"
    ).exists()
    buyer = Contact.objects.get(account=account, key="invite@exemple.fr")
    assert buyer.email_status == ConsentStatus.SOFT_OPTIN
    assert buyer.fields["ps_total_orders"] == 1
    reader = Contact.objects.get(account=account, key="lecteur@exemple.fr")
    assert reader.email_status == ConsentStatus.SUBSCRIBED
    assert reader.fields["ps_newsletter"] is True and "ps_customer_id" not in reader.fields
    mirrored = ShopCustomer.objects.get(connection=connection, email="lecteur@exemple.fr")
    assert mirrored.external_id > GUEST_ID_OFFSET and mirrored.is_subscribed


@pytest.mark.django_db(transaction=True)
def test_multistore_selection_keeps_the_shop_id(account, serve):
    shop = PrestaShopShop(customers=80, guest_subscribers=10, seed=9, multistore=True)
    simulator = serve(shop)
    connection = connect(account, simulator, store_views=["2"])
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    belgium = emails_of(shop, {2}) | {
        normalize_email(s["email"])
        for s in shop.tables["sendethic_subscribers"].values()
        if s["id_shop"] == 2
    }
    contacts = Contact.objects.filter(account=account)
    assert set(contacts.values_list("key", flat=True)) == belgium
    assert {c.fields["ps_shop_id"] for c in contacts} == {2}


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the engine catches it, nothing is cleaned up."""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", VERSIONS)
def test_a_killed_run_is_resumed_with_nothing_lost_or_doubled(account, serve, version):
    shop = PrestaShopShop(customers=100, seed=3)
    simulator = serve(shop, version=version)
    connection = connect(account, simulator)
    calls = {"n": 0}

    def killing(connection):
        client = fast_client(connection)
        fetch = client.fetch_changed

        def fetch_then_die(entity, **kwargs):
            calls["n"] += 1
            if calls["n"] > 5:
                raise WorkerKilled()
            return fetch(entity, **kwargs)

        client.fetch_changed = fetch_then_die
        return client

    run = sync_start(connection=connection)
    with pytest.raises(WorkerKilled):
        sync_run_execute(run.pk, killing)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING
    assert run.checkpoint["customers"]["done"]
    assert 0 < run.orders_read < len(shop.tables["orders"])
    ShopConnection.objects.filter(pk=connection.pk).update(
        lease_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    resumed = SyncRun.objects.create(account=account, connection=connection, kind=run.kind)
    resumed = sync_run_execute(resumed.pk, fast_client)
    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.error_message
    assert resumed.customers_read == len(shop.tables["customers"])
    assert resumed.orders_read == len(shop.tables["orders"])
    guests = {normalize_email(s["email"]) for s in shop.tables["sendethic_subscribers"].values()}
    assert Contact.objects.filter(account=account).count() == len(emails_of(shop) | guests)
    subscribers = {
        normalize_email(c["email"]) for c in shop.tables["customers"].values() if c["newsletter"]
    }
    ledger = ConsentRecord.objects.filter(account=account, status="subscribed")
    assert ledger.count() == len(subscribers | guests)


@pytest.mark.django_db(transaction=True)
def test_bad_key_missing_permission_and_shop_down_fail_the_run_clearly(account, serve):
    shop = PrestaShopShop(customers=10, seed=2)
    permissions = {k: v for k, v in ALL_PERMISSIONS.items() if k != "orders"}
    simulator = serve(shop, permissions=permissions)
    connection = connect(account, simulator)
    run = run_sync(connection)
    assert run.status == SyncRun.Status.FAILED and run.error_code == "unauthorized"
    assert "« orders »" in run.error_message
    assert ShopConnection.objects.get(pk=connection.pk).running_run_id is None

    simulator.permissions = dict(ALL_PERMISSIONS)
    connection_update(connection=connection, credentials=ShopCredentials(access_token="Y" * 32))
    run = run_sync(connection)
    assert run.status == SyncRun.Status.FAILED and run.error_code == "unauthorized"
    assert "refusé cette clé webservice" in run.error_message

    connection_update(connection=connection, credentials=KEY)
    simulator.stop()
    run = run_sync(connection)
    assert run.status == SyncRun.Status.FAILED and run.error_code == "unreachable"
    assert ShopConnection.objects.get(pk=connection.pk).running_run_id is None


@pytest.mark.django_db(transaction=True)
def test_unsubscribe_here_is_written_back_through_the_xml_put_without_loop(account, serve):
    from connectors.write_back import opt_out_write_back
    from contacts.services.consent import ConsentProof, consent_change

    shop = PrestaShopShop(customers=30, seed=5, guest_subscribers=0)
    simulator = serve(shop, version="1.7")
    connection = connect(account, simulator, write_back=True)
    run_sync(connection)
    subscriber = next(c for c in shop.tables["customers"].values() if c["newsletter"])
    groups_before = list(subscriber.groups)
    values_before = shop.raw("customers", subscriber)
    contact = Contact.objects.get(account=account, key=normalize_email(subscriber["email"]))
    consent_change(
        contact=contact,
        channel="email",
        status=ConsentStatus.UNSUBSCRIBED,
        proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE),
    )
    written = opt_out_write_back(
        account_id=account.pk, contact_id=contact.pk, client_factory=fast_client
    )
    assert written == 1
    after = shop.tables["customers"][subscriber["id"]]
    assert after["newsletter"] == 0 and after.groups == groups_before
    values_after = shop.raw("customers", after)
    changed = {k for k in values_before if values_before[k] != values_after[k]}
    assert changed <= {"newsletter", "date_upd"} and set(values_after) == set(values_before)
    ledger_before = ConsentRecord.objects.filter(contact=contact).count()
    delta = run_sync(connection)
    assert delta.status == SyncRun.Status.SUCCEEDED
    contact.refresh_from_db()
    assert contact.email_status == ConsentStatus.UNSUBSCRIBED
    assert ConsentRecord.objects.filter(contact=contact).count() == ledger_before


@pytest.mark.django_db(transaction=True)
def test_abandoned_cart_polling_and_a_later_order_clears_it(account, serve):
    from connectors.selectors import abandoned_cart

    shop = PrestaShopShop(customers=0, guest_subscribers=0, seed=1)
    now = datetime.now(UTC)
    marie = shop.add_customer(email="marie@exemple.fr", firstname="Marie", lastname="Roux",
                              created_at=now - timedelta(days=30))  # fmt: skip
    shop.add_order(customer_id=marie["id"], lines=[("MUG-CERAM", "Mug", 1, 10.0)],
                   created_at=now - timedelta(days=10))  # fmt: skip
    simulator = serve(shop, version="1.6")
    connection = connect(account, simulator)
    run_sync(connection)
    cart = shop.add_cart(customer_id=marie["id"], lines=[("THE-VERT", "Thé", 2, 8.4)],
                         updated_at=now - timedelta(hours=4))  # fmt: skip
    carts = run_sync(connection, kind=SyncRun.Kind.CARTS)
    assert carts.status == SyncRun.Status.SUCCEEDED, carts.error_message
    contact = Contact.objects.get(account=account, key="marie@exemple.fr")
    assert contact.fields["ps_last_abandoned_cart"]
    content = abandoned_cart(connection, "marie@exemple.fr")
    assert content["total"] == "16.8000" or float(content["total"]) == 16.8
    assert content["items"][0]["name"] == "Thé vert sencha"
    assert "controller=cart" in content["url"]
    # the customer orders that cart: no longer abandoned
    shop.add_order(customer_id=marie["id"], lines=[("THE-VERT", "Thé", 2, 8.4)],
                   cart_id=cart["id"], state=2)  # fmt: skip
    run_sync(connection)
    contact.refresh_from_db()
    assert contact.fields.get("ps_last_abandoned_cart") is None
    assert abandoned_cart(connection, "marie@exemple.fr") is None


@pytest.mark.django_db(transaction=True)
def test_a_guest_subscriber_who_leaves_in_the_shop_is_unsubscribed_here(account, serve):
    shop = PrestaShopShop(customers=0, guest_subscribers=0, seed=1)
    reader = shop.add_guest_subscriber(
        email="lecteur@exemple.fr", subscribed_at=datetime(2026, 1, 5, 8, tzinfo=UTC)
    )
    simulator = serve(shop, version="1.6")
    connection = connect(account, simulator)
    assert run_sync(connection).subscribers_read == 1
    contact = Contact.objects.get(account=account, key="lecteur@exemple.fr")
    assert contact.email_status == ConsentStatus.SUBSCRIBED
    reader.values.update(active=0, date_upd=datetime.now(UTC).replace(microsecond=0))
    shop.index["sendethic_subscribers"].touch()
    delta = run_sync(connection)
    assert delta.status == SyncRun.Status.SUCCEEDED, delta.error_message
    contact.refresh_from_db()
    assert contact.email_status == ConsentStatus.UNSUBSCRIBED
    # without the module, the sync reads customers only and still succeeds
    bare = serve(PrestaShopShop(customers=5, seed=2), module_installed=False)
    other = connect(account, bare, name="Sans module")
    run = run_sync(other)
    assert run.status == SyncRun.Status.SUCCEEDED and "subscribers" not in run.checkpoint


@pytest.mark.django_db(transaction=True)
def test_a_guest_subscriber_unsubscribed_here_is_written_back_to_the_module(account, serve):
    from connectors.write_back import opt_out_write_back
    from contacts.services.consent import ConsentProof, consent_change

    shop = PrestaShopShop(customers=0, guest_subscribers=0, seed=1)
    reader = shop.add_guest_subscriber(
        email="lectrice@exemple.fr", id_shop=1, subscribed_at=datetime(2026, 2, 1, tzinfo=UTC)
    )
    before = shop.raw("sendethic_subscribers", reader)
    simulator = serve(shop, version="8")
    connection = connect(account, simulator, write_back=True)
    run_sync(connection)
    contact = Contact.objects.get(account=account, key="lectrice@exemple.fr")
    consent_change(
        contact=contact,
        channel="email",
        status=ConsentStatus.UNSUBSCRIBED,
        proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE),
    )
    written = opt_out_write_back(
        account_id=account.pk, contact_id=contact.pk, client_factory=fast_client
    )
    assert written == 1
    after = shop.raw("sendethic_subscribers", reader)
    assert after["active"] == 0
    assert {k for k in before if before[k] != after[k]} == {"active", "date_upd"}
    assert ("PUT", f"sendethic_subscribers/{reader['id']}", "") in simulator.requests_log
    delta = run_sync(connection)
    assert delta.status == SyncRun.Status.SUCCEEDED
    contact.refresh_from_db()
    assert contact.email_status == ConsentStatus.UNSUBSCRIBED
