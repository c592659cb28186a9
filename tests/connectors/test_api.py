"""The connectors REST API: every operation of the settings page, through an API key."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from connectors.credentials import decrypt_credentials
from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.models import ShopConnection, SyncRun
from connectors.platforms import shop_host_check
from connectors.services import connection_create, sync_start
from connectors.sync import sync_run_execute
from contacts.models import Contact
from tests.connectors.conftest import SIMULATOR_CREDENTIALS, fast_client
from tests.factories import AccountFactory, ContactListFactory, make_api_key

pytestmark = pytest.mark.django_db

BASE = "/api/v1/shop-connections/"
CREDENTIALS = {
    "consumer_key": "ck-1",
    "consumer_secret": "tres-secret-consumer",
    "access_token": "at-1",
    "access_token_secret": "tres-secret-token",
}


def client_for(account, mode=ApiKey.Mode.LIVE):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(account, mode=mode)[1]}")
    return client


def run_now(connection):
    run = sync_start(connection=connection)
    return sync_run_execute(run.pk, fast_client)


def test_create_stores_credentials_encrypted_and_never_returns_them(api_client, account):
    newsletter = ContactListFactory(account=account)
    # when
    response = api_client.post(
        BASE,
        {
            "name": "Ma boutique",
            "platform": "magento",
            "shop_url": "https://boutique.example",
            "credentials": CREDENTIALS,
            "store_views": ["default", "fr_be"],
            "sync_interval_hours": 12,
            "cart_delay_hours": 2,
            "newsletter_instant_add": True,
            "newsletter_list": newsletter.pk,
        },
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "credentials" not in body
    assert "tres-secret" not in json.dumps(body) and "ck-1" not in json.dumps(body)
    assert body["credentials_given"] == list(CREDENTIALS)
    assert body["store_views"] == ["default", "fr_be"]
    assert body["status"] == "active" and body["next_run_at"]
    connection = ShopConnection.objects.get(account=account)
    assert "tres-secret" not in connection.credentials_encrypted
    assert decrypt_credentials(connection.credentials_encrypted).consumer_secret == (
        "tres-secret-consumer"
    )
    listed = api_client.get(BASE).json()
    assert [c["id"] for c in listed] == [connection.pk]
    assert "tres-secret" not in json.dumps(listed)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sync_interval_hours": 11}, "sync_interval_hours"),
        ({"cart_delay_hours": 0}, "cart_delay_hours"),
        ({"shop_url": "ftp://boutique.example"}, "shop_url"),
        ({"shop_url": "https://boutique.example\n"}, "shop_url"),
        ({"store_views": ["Fr BE"]}, "store_views"),
        ({"credentials": {"access_token": "at-1"}}, "credentials"),  # OAuth needs all four
        ({"credentials": None}, "credentials"),
        ({"platform": "shopify"}, "platform"),
    ],
)
def test_invalid_settings_are_a_400_naming_the_field(api_client, change, field):
    body = {"name": "B", "shop_url": "https://b.example", "credentials": CREDENTIALS, **change}
    if change.get("credentials", 0) is None:
        del body["credentials"]
    # when
    response = api_client.post(BASE, body)
    # then
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid" and field in error["fields"], error
    assert not ShopConnection.objects.exists()


def test_a_bearer_connection_needs_only_the_token_and_names_are_unique(api_client):
    body = {
        "name": "B",
        "shop_url": "https://b.example",
        "auth_method": "bearer",
        "credentials": {"access_token": "at-1"},
    }
    assert api_client.post(BASE, body).status_code == 201
    duplicate = api_client.post(BASE, body)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "connection_name_taken"


def test_settings_change_keeps_credentials_unless_given_and_moves_the_next_run(
    api_client, connection
):
    # given a first import done 24 hours ahead of its next run
    assert run_now(connection).status == SyncRun.Status.SUCCEEDED
    connection.refresh_from_db()
    finished = connection.runs.get().finished_at
    assert connection.next_run_at == finished + timedelta(hours=24)
    # when the owner shortens the interval and the data options
    response = api_client.patch(
        f"{BASE}{connection.pk}/",
        {"sync_interval_hours": 12, "data_scope": "simple", "write_back": True},
    )
    # then the next run is 12 hours after the last one, and the credentials are untouched
    assert response.status_code == 200, response.json()
    connection.refresh_from_db()
    assert connection.next_run_at == finished + timedelta(hours=12)
    assert (connection.data_scope, connection.write_back) == ("simple", True)
    assert decrypt_credentials(connection.credentials_encrypted) == SIMULATOR_CREDENTIALS
    # when new credentials are given they replace the stored ones
    new = {**CREDENTIALS, "consumer_key": "ck-2"}
    assert api_client.patch(f"{BASE}{connection.pk}/", {"credentials": new}).status_code == 200
    connection.refresh_from_db()
    assert decrypt_credentials(connection.credentials_encrypted).consumer_key == "ck-2"
    # and switching to OAuth without the four values is refused when they are not stored
    bearer = api_client.patch(
        f"{BASE}{connection.pk}/",
        {"auth_method": "bearer", "credentials": {"access_token": "t"}},
    )
    assert bearer.status_code == 200
    back = api_client.patch(f"{BASE}{connection.pk}/", {"auth_method": "oauth1"})
    assert back.status_code == 400 and "credentials" in back.json()["fields"]
    # a connection keeps its platform
    moved = api_client.patch(f"{BASE}{connection.pk}/", {"platform": "prestashop"})
    assert moved.status_code == 400 and "platform" in moved.json()["fields"]


def test_connection_test_answers_precisely(api_client, account, connection, simulator, settings):
    # when the shop answers
    response = api_client.post(f"{BASE}{connection.pk}/test/")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["code"] == "" and body["missing_resources"] == []
    assert "default" in {view["code"] for view in body["store_views"]}
    # when the integration lacks an ACL resource
    simulator.granted.discard("Magento_Sales::actions_view")
    body = api_client.post(f"{BASE}{connection.pk}/test/").json()
    assert body["ok"] is False and body["missing_resources"] == ["Magento_Sales::actions_view"]
    # when the credentials are wrong
    api_client.patch(
        f"{BASE}{connection.pk}/", {"credentials": {**CREDENTIALS, "consumer_key": "faux"}}
    )
    body = api_client.post(f"{BASE}{connection.pk}/test/").json()
    assert body["ok"] is False and body["code"] == "unauthorized" and body["message"]
    # when the installation does not allow the host
    settings.CONNECTOR_SHOP_HOSTS = ["shop.allowed.example"]
    body = api_client.post(f"{BASE}{connection.pk}/test/").json()
    assert body["ok"] is False and body["code"] == "host_not_allowed"


def test_a_test_key_never_calls_the_shop(account, connection, simulator):
    client = client_for(account, mode=ApiKey.Mode.TEST)
    requests_before = simulator.request_count
    for operation in ("test", "sync"):
        response = client.post(f"{BASE}{connection.pk}/{operation}/")
        assert response.status_code == 403
        assert response.json()["code"] == "test_key"
    assert simulator.request_count == requests_before
    assert not SyncRun.objects.exists()
    assert client.get(f"{BASE}{connection.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_sync_now_the_run_log_and_stop(account, connection, simulator):
    client = client_for(account)
    # when
    response = client.post(f"{BASE}{connection.pk}/sync/")
    # then a full import is queued, once
    assert response.status_code == 202
    queued = response.json()
    assert (queued["kind"], queued["status"], queued["trigger"]) == ("full", "queued", "manual")
    again = client.post(f"{BASE}{connection.pk}/sync/")
    assert again.status_code == 409 and again.json()["code"] == "sync_already_running"
    # when the worker runs it, the log shows its counts
    sync_run_execute(queued["id"], fast_client)
    detail = client.get(f"/api/v1/sync-runs/{queued['id']}/").json()
    assert detail["status"] == "succeeded" and detail["progress_percent"] == 100
    assert detail["customers_read"] == len(simulator.shop.customers)
    assert detail["contacts_created"] > 0 and "checkpoint" not in detail
    # a finished run cannot be stopped; a queued one can
    assert client.post(f"/api/v1/sync-runs/{queued['id']}/stop/").status_code == 409
    delta = client.post(f"{BASE}{connection.pk}/sync/").json()
    assert delta["kind"] == "delta"
    stopped = client.post(f"/api/v1/sync-runs/{delta['id']}/stop/")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    # the log lists newest first, filtered by connection and status
    listed = client.get("/api/v1/sync-runs/", {"connection": connection.pk}).json()["results"]
    assert [run["id"] for run in listed] == [delta["id"], queued["id"]]
    failed = client.get("/api/v1/sync-runs/", {"status": "succeeded"}).json()["results"]
    assert [run["id"] for run in failed] == [queued["id"]]
    assert client.get("/api/v1/sync-runs/", {"status": "nope"}).status_code == 400


def test_pause_and_resume(api_client, connection):
    paused = api_client.post(f"{BASE}{connection.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    resumed = api_client.post(f"{BASE}{connection.pk}/resume/")
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"


def test_delete_refused_while_a_run_is_queued_then_keeps_the_contacts(
    api_client, account, connection
):
    run_now(connection)
    contacts = Contact.objects.filter(account=account).count()
    queued = sync_start(connection=connection)
    refused = api_client.delete(f"{BASE}{connection.pk}/")
    assert refused.status_code == 409
    api_client.post(f"/api/v1/sync-runs/{queued.pk}/stop/")
    # when
    assert api_client.delete(f"{BASE}{connection.pk}/").status_code == 204
    # then
    assert not ShopConnection.objects.exists() and not SyncRun.objects.exists()
    assert Contact.objects.filter(account=account).count() == contacts > 0


def test_newsletter_hook_gives_its_url_and_secret(api_client, connection):
    body = api_client.get(f"{BASE}{connection.pk}/newsletter-hook/").json()
    assert body["url"].endswith(f"/connectors/hooks/{connection.pk}/newsletter/")
    assert len(body["secret"]) >= 32 and body["enabled"] is False


def test_abandoned_carts_of_a_connection_and_of_a_contact(api_client, account):
    shop = MagentoShop(customers=0, seed=1)
    sim = MagentoSimulator(shop).start()
    try:
        connection = connection_create(
            account=account, name="Carts", shop_url=sim.url, credentials=SIMULATOR_CREDENTIALS
        )
        now = datetime.now(UTC)
        marie = shop.add_customer(email="marie@exemple.fr", firstname="Marie")
        paul = shop.add_customer(email="paul@exemple.fr", firstname="Paul")
        lea = shop.add_customer(email="lea@exemple.fr", firstname="Léa")
        shop.add_cart(customer_id=marie.id, lines=[("THE", "Thé vert", 2, 8.4)],
                      updated_at=now - timedelta(hours=4))  # fmt: skip
        shop.add_cart(
            customer_id=paul.id,
            lines=[("MUG", "Mug", 1, 10.0)],
            updated_at=now - timedelta(hours=1),
        )  # fmt: skip (too recent at 3 h)
        lea_cart = shop.add_cart(customer_id=lea.id, lines=[("MUG", "Mug", 1, 10.0)],
                                 updated_at=now - timedelta(hours=5))  # fmt: skip
        shop.add_order(customer_id=lea.id, lines=[("MUG", "Mug", 1, 10.0)],
                       quote_id=lea_cart.id, created_at=now - timedelta(hours=2))  # fmt: skip
        assert run_now(connection).status == SyncRun.Status.SUCCEEDED
        # when
        response = api_client.get("/api/v1/abandoned-carts/", {"connection": connection.pk})
        # then only Marie's cart is abandoned (Paul's is recent, Léa ordered since)
        assert response.status_code == 200
        (cart,) = response.json()["results"]
        marie_contact = Contact.objects.get(account=account, email="marie@exemple.fr")
        assert cart["email"] == "marie@exemple.fr" and cart["contact"] == marie_contact.pk
        assert cart["items"] == [{"name": "Thé vert", "sku": "THE", "qty": 2.0, "price": "8.4"}]
        assert cart["total"] == "16.8000" and cart["url"] == f"{sim.url}/checkout/cart/"
        by_contact = api_client.get("/api/v1/abandoned-carts/", {"contact": marie_contact.pk})
        assert [c["id"] for c in by_contact.json()["results"]] == [cart["id"]]
        paul_contact = Contact.objects.get(account=account, email="paul@exemple.fr")
        by_paul = api_client.get("/api/v1/abandoned-carts/", {"contact": paul_contact.pk})
        assert by_paul.json()["results"] == []
        # a longer delay makes Marie's cart not abandoned yet
        api_client.patch(f"/api/v1/shop-connections/{connection.pk}/", {"cart_delay_hours": 6})
        later = api_client.get("/api/v1/abandoned-carts/").json()["results"]
        assert later == []
    finally:
        sim.stop()


def test_another_accounts_connection_runs_and_carts_are_404(api_client):
    other = AccountFactory()
    theirs = connection_create(
        account=other,
        name="Autre",
        shop_url="https://autre.example",
        credentials=SIMULATOR_CREDENTIALS,
    )
    their_run = SyncRun.objects.create(account=other, connection=theirs, kind="full")
    their_contact = Contact.objects.create(
        account=other, key="x@autre.example", email="x@autre.example"
    )
    calls = [
        ("get", f"{BASE}{theirs.pk}/", None),
        ("patch", f"{BASE}{theirs.pk}/", {"name": "Volée"}),
        ("delete", f"{BASE}{theirs.pk}/", None),
        ("post", f"{BASE}{theirs.pk}/test/", None),
        ("post", f"{BASE}{theirs.pk}/sync/", None),
        ("post", f"{BASE}{theirs.pk}/pause/", None),
        ("post", f"{BASE}{theirs.pk}/resume/", None),
        ("get", f"{BASE}{theirs.pk}/newsletter-hook/", None),
        ("get", f"/api/v1/sync-runs/{their_run.pk}/", None),
        ("post", f"/api/v1/sync-runs/{their_run.pk}/stop/", None),
        ("get", f"/api/v1/abandoned-carts/?connection={theirs.pk}", None),
        ("get", f"/api/v1/abandoned-carts/?contact={their_contact.pk}", None),
    ]
    for method, url, body in calls:
        response = getattr(api_client, method)(url, body)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == "not_found"
    assert api_client.get(BASE).json() == []
    assert api_client.get("/api/v1/sync-runs/").json()["results"] == []
    theirs.refresh_from_db()
    assert (theirs.name, theirs.status) == ("Autre", "active")
    their_run.refresh_from_db()
    assert their_run.status == "queued"


def test_schedule_is_per_connection(account):
    """The 5-minute tick queues only the connections due, each by its own interval."""
    from connectors.tasks import start_due_syncs_task

    due = connection_create(account=account, name="Due", shop_url="https://a.example",
                            credentials=SIMULATOR_CREDENTIALS)  # fmt: skip
    later = connection_create(account=account, name="Later", shop_url="https://b.example",
                              credentials=SIMULATOR_CREDENTIALS,
                              first_import_at=timezone.now() + timedelta(hours=2))  # fmt: skip
    paused = connection_create(account=account, name="Paused", shop_url="https://c.example",
                               credentials=SIMULATOR_CREDENTIALS)  # fmt: skip
    ShopConnection.objects.filter(pk=paused.pk).update(status="paused")
    # when
    assert start_due_syncs_task() == 1
    # then
    assert list(SyncRun.objects.values_list("connection", flat=True)) == [due.pk]
    assert not later.runs.exists()


@pytest.mark.parametrize(
    "shop_url",
    [
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://[fd00::1]/",
    ],
)
def test_production_never_calls_a_private_address(account, connection, settings, shop_url):
    """A tenant's shop URL must not make the workers call the platform's own network (SSRF)."""
    settings.CONNECTOR_ALLOW_PRIVATE_HOSTS = False
    connection.shop_url = shop_url
    connection.save(update_fields=["shop_url"])
    body = client_for(account).post(f"{BASE}{connection.pk}/test/").json()
    assert body["ok"] is False and body["code"] == "host_not_public"


def test_a_public_address_passes_the_private_address_check(settings):
    settings.CONNECTOR_ALLOW_PRIVATE_HOSTS = False
    shop_host_check("https://93.184.215.14/")  # no request is made: the check only resolves


def test_a_name_that_answers_a_private_address_to_the_connection_is_refused(
    account, connection, settings, monkeypatch
):
    """DNS rebinding: the name's first answer (to the check) is public, the one the connection
    gets is not. The connected socket's own address is checked before anything is sent."""
    from connectors import platforms

    settings.CONNECTOR_ALLOW_PRIVATE_HOSTS = False
    # the check's lookup answers a public address, as a rebinding name's first answer does
    monkeypatch.setattr(platforms, "_private_addresses", lambda hostname: [])
    # when the connection is tested (the simulator itself listens on 127.0.0.1)
    body = client_for(account).post(f"{BASE}{connection.pk}/test/").json()
    # then
    assert body["ok"] is False and body["code"] == "host_not_public", body
    # and a sync run fails with the same reason
    run = sync_run_execute(sync_start(connection=connection).pk, fast_client)
    assert run.status == SyncRun.Status.FAILED and run.error_code == "host_not_public"
    assert "127.0.0.1" in run.error_message
