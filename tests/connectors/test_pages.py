import json
import time

import pytest
from django.urls import reverse

from connectors.credentials import decrypt_secret
from connectors.models import ShopConnection, SyncRun
from connectors.newsletter import sign
from connectors.services import connection_create, connection_update
from contacts.models import ConsentRecord, ConsentStatus, Contact
from tests.connectors.conftest import SIMULATOR_CREDENTIALS
from tests.factories import AccountFactory, ContactListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_connection():
    return connection_create(
        account=AccountFactory(),
        name="Autre boutique",
        shop_url="https://autre.example",
        credentials=SIMULATOR_CREDENTIALS,
    )


def test_create_connection_stores_credentials_encrypted_and_never_shows_them(
    logged_in_client, account
):
    response = logged_in_client.post(
        reverse("connectors:create"),
        {
            "name": "Ma boutique",
            "platform": "magento",
            "shop_url": "https://boutique.example",
            "auth_method": "oauth1",
            "consumer_key": "ck-1",
            "consumer_secret": "tres-secret-consumer",
            "access_token": "at-1",
            "access_token_secret": "tres-secret-token",
            "store_view_codes": "default, fr_be",
            "data_scope": "complete",
            "soft_optin_marketable": "on",
            "sync_interval_hours": "24",
            "cart_delay_hours": "3",
        },
    )
    connection = ShopConnection.objects.get(account=account)
    assert response.status_code == 302
    assert connection.store_views == ["default", "fr_be"]
    assert "tres-secret" not in connection.credentials_encrypted
    page = logged_in_client.get(reverse("connectors:detail", args=[connection.pk]))
    assert page.status_code == 200
    assert b"tres-secret" not in page.content and b"at-1" not in page.content
    # the page says what Magento cannot give (no last login, no delivery date), in French
    assert "Magento ne donne pas la dernière connexion" in page.content.decode()
    assert "Magento n'a pas de date de livraison" in page.content.decode()


def test_interval_below_12_hours_is_refused(logged_in_client, account):
    response = logged_in_client.post(
        reverse("connectors:create"),
        {"name": "B", "platform": "magento", "shop_url": "https://b.example",
         "auth_method": "bearer", "access_token": "t", "data_scope": "simple",
         "sync_interval_hours": "6", "cart_delay_hours": "3"},
    )  # fmt: skip
    assert response.status_code == 200
    assert not ShopConnection.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    "name",
    ["detail", "runs", "test", "run", "pause"],
)
def test_another_accounts_connection_is_a_404(logged_in_client, other_connection, name):
    url = reverse(f"connectors:{name}", args=[other_connection.pk])
    method = logged_in_client.get if name in ("detail", "runs") else logged_in_client.post
    assert method(url).status_code == 404


def test_another_accounts_run_cannot_be_stopped(logged_in_client, other_connection):
    run = SyncRun.objects.create(
        account=other_connection.account, connection=other_connection, kind="full"
    )
    url = reverse("connectors:stop", args=[other_connection.pk, run.pk])
    assert logged_in_client.post(url).status_code == 404
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED


def test_test_connection_says_precisely_why_it_fails(logged_in_client, account):
    connection = connection_create(
        account=account,
        name="Down",
        shop_url="http://127.0.0.1:9",
        credentials=SIMULATOR_CREDENTIALS,
    )
    response = logged_in_client.post(reverse("connectors:test", args=[connection.pk]), follow=True)
    assert "ne peut pas être jointe" in response.content.decode() or "cannot be reached" in (
        response.content.decode()
    )


def _post_hook(client, connection, payload, *, timestamp=None, secret=None):
    body = json.dumps(payload).encode()
    timestamp = str(timestamp or int(time.time()))
    secret = secret or decrypt_secret(connection.webhook_secret_encrypted)
    return client.post(
        reverse("connectors:newsletter_add", args=[connection.pk]),
        data=body,
        content_type="application/json",
        HTTP_X_SENDETHIC_TIMESTAMP=timestamp,
        HTTP_X_SENDETHIC_SIGNATURE=sign(secret, timestamp, body),
    )


def test_newsletter_instant_add_is_signed_and_not_replayable(client, account):
    target = ContactListFactory(account=account)
    connection = connection_create(
        account=account,
        name="Hook",
        shop_url="https://h.example",
        credentials=SIMULATOR_CREDENTIALS,
    )
    payload = {"email": "Zoe.Dupre@Exemple.fr", "firstname": "Zoé", "store_code": "default",
               "ip": "203.0.113.9"}  # fmt: skip
    # off by default
    assert _post_hook(client, connection, payload).status_code == 404
    connection_update(connection=connection, newsletter_instant_add=True, newsletter_list=target)
    assert _post_hook(client, connection, payload, secret="wrong").status_code == 401
    assert (
        _post_hook(client, connection, payload, timestamp=int(time.time()) - 3600).status_code
        == 401
    )
    response = _post_hook(client, connection, payload)
    assert response.status_code == 200
    contact = Contact.objects.get(account=account, key="zoe.dupre@exemple.fr")
    assert contact.email_status == ConsentStatus.SUBSCRIBED
    assert contact.lists.filter(pk=target.pk).exists()
    record = ConsentRecord.objects.get(contact=contact)
    assert record.source == ConsentRecord.Source.CONNECTOR and record.ip_address == "203.0.113.9"
    # the same request again is a replay
    body = json.dumps({"email": "autre@exemple.fr"}).encode()
    timestamp = str(int(time.time()))
    secret = decrypt_secret(connection.webhook_secret_encrypted)
    headers = {"HTTP_X_SENDETHIC_TIMESTAMP": timestamp,
               "HTTP_X_SENDETHIC_SIGNATURE": sign(secret, timestamp, body)}  # fmt: skip
    url = reverse("connectors:newsletter_add", args=[connection.pk])
    assert client.post(url, body, content_type="application/json", **headers).status_code == 200
    assert client.post(url, body, content_type="application/json", **headers).status_code == 409


def test_newsletter_instant_add_never_resubscribes_a_suppressed_address(client, account):
    from contacts.services.consent import ConsentProof, consent_change

    connection = connection_create(
        account=account, name="Hook", shop_url="https://h.example",
        credentials=SIMULATOR_CREDENTIALS, newsletter_instant_add=True,
    )  # fmt: skip
    _post_hook(client, connection, {"email": "a@exemple.fr", "first": True})
    contact = Contact.objects.get(account=account, key="a@exemple.fr")
    consent_change(contact=contact, channel="email", status=ConsentStatus.UNSUBSCRIBED,
                   proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE))  # fmt: skip
    assert _post_hook(client, connection, {"email": "a@exemple.fr"}).status_code == 200
    contact.refresh_from_db()
    assert contact.email_status == ConsentStatus.UNSUBSCRIBED


PS_KEY = "SENDETHICSIMULATORKEY00000000000"


def test_prestashop_connection_form_asks_for_the_webservice_key_and_shops(
    logged_in_client, account
):
    from connectors.credentials import decrypt_credentials
    from connectors.models import Platform

    page = logged_in_client.get(reverse("connectors:create") + "?platform=prestashop")
    content = page.content.decode()
    assert 'name="webservice_key"' in content and 'name="consumer_key"' not in content
    form = {
        "name": "Ma boutique PS",
        "platform": "prestashop",
        "shop_url": "https://ps.example",
        "webservice_key": PS_KEY,
        "store_view_codes": "1, trois",
        "data_scope": "complete",
        "sync_interval_hours": "24",
        "cart_delay_hours": "3",
    }
    refused = logged_in_client.post(reverse("connectors:create"), form)
    assert refused.status_code == 200 and not ShopConnection.objects.filter(account=account)
    form["store_view_codes"] = "1, 3"
    response = logged_in_client.post(reverse("connectors:create"), form)
    assert response.status_code == 302
    connection = ShopConnection.objects.get(account=account)
    assert connection.platform == Platform.PRESTASHOP
    assert connection.store_views == ["1", "3"]
    assert PS_KEY not in connection.credentials_encrypted
    assert decrypt_credentials(connection.credentials_encrypted).access_token == PS_KEY
    detail = logged_in_client.get(reverse("connectors:detail", args=[connection.pk]))
    assert PS_KEY.encode() not in detail.content
    assert b'name="webservice_key"' in detail.content
    # saving without a key keeps the stored one
    form.pop("webservice_key")
    saved = logged_in_client.post(reverse("connectors:detail", args=[connection.pk]), form)
    assert saved.status_code == 302
    connection.refresh_from_db()
    assert decrypt_credentials(connection.credentials_encrypted).access_token == PS_KEY


def test_prestashop_test_connection_lists_shops_and_names_a_missing_permission(
    logged_in_client, account
):
    from connectors.credentials import ShopCredentials
    from connectors.prestashop.simulator import (
        ALL_PERMISSIONS,
        PrestaShopShop,
        PrestaShopSimulator,
    )

    simulator = PrestaShopSimulator(PrestaShopShop(customers=5, multistore=True)).start()
    try:
        connection = connection_create(
            account=account, name="PS", platform="prestashop", shop_url=simulator.url,
            credentials=ShopCredentials(access_token=PS_KEY),
        )  # fmt: skip
        url = reverse("connectors:test", args=[connection.pk])
        content = logged_in_client.post(url, follow=True).content.decode()
        assert "2 — Boutique Belgique" in content
        simulator.permissions = {k: v for k, v in ALL_PERMISSIONS.items() if k != "addresses"}
        content = logged_in_client.post(url, follow=True).content.decode()
        assert "addresses" in content and "Webservice" in content
    finally:
        simulator.stop()


def test_the_store_views_found_by_the_test_are_offered_as_boxes(logged_in_client, connection):
    """Magento: after "Test the connection", the settings tick store views instead of typing codes."""
    from connectors.forms import ShopConnectionForm

    logged_in_client.post(reverse("connectors:test", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.discovered_views and {"id", "code", "name"} <= set(
        connection.discovered_views[0]
    )
    page = logged_in_client.get(reverse("connectors:detail", args=[connection.pk])).content.decode()
    first = connection.discovered_views[0]
    assert f'type="checkbox" name="store_view_codes" value="{first["code"]}"' in page
    # ticking one keeps it; ticking none means every view
    form = ShopConnectionForm(instance=connection, account=connection.account)
    data = {**form.initial, "store_view_codes": [first["code"]]}
    data = {key: value for key, value in data.items() if value is not None}
    bound = ShopConnectionForm(data, instance=connection, account=connection.account)
    assert bound.is_valid(), bound.errors
    assert bound.options()["store_views"] == [first["code"]]
    data["store_view_codes"] = []
    bound = ShopConnectionForm(data, instance=connection, account=connection.account)
    assert bound.is_valid(), bound.errors
    assert bound.options()["store_views"] == []


def test_a_run_without_announced_totals_shows_what_it_has_read(logged_in_client, connection):
    """PrestaShop announces no totals: no frozen 0 % bar, but an indeterminate one and a count."""
    run = SyncRun.objects.create(
        account=connection.account, connection=connection, status=SyncRun.Status.RUNNING,
        customers_read=120, orders_read=30,
    )  # fmt: skip
    url = reverse("connectors:runs", args=[connection.pk])
    page = logged_in_client.get(url).content.decode()
    assert '<progress data-testid="run-progress"></progress>' in page
    assert "150 enregistrements lus jusqu" in page
    # Magento announces them: a real percentage
    run.expected = {"customers": 300}
    run.save(update_fields=["expected"])
    page = logged_in_client.get(url).content.decode()
    assert 'value="50" max="100"' in page
