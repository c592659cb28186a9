import base64
import io
import logging

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from tests.factories import AccountFactory, make_api_key

pytestmark = pytest.mark.django_db
URL = "/api/v1/api-keys/"


def bearer(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_create_returns_the_secret_once_and_lists_without_it(api_client):
    # when
    created = api_client.post(URL, {"name": "CRM", "mode": "test"}, format="json")
    listed = api_client.get(URL)
    # then
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("se_test_")
    assert body["prefix"] == body["key"][:16]
    assert body["mode"] == "test"
    assert listed.status_code == 200
    names = [row["name"] for row in listed.json()["results"]]
    assert names == ["CRM", "test key"]
    assert all("key" not in row for row in listed.json()["results"])


def test_new_key_authenticates(api_client):
    plaintext = api_client.post(URL, {"name": "second"}, format="json").json()["key"]
    response = bearer(plaintext).get("/api/v1/account/")
    assert response.status_code == 200
    assert response.json()["api_key"]["name"] == "second"
    assert response.json()["api_key"]["mode"] == "live"


def test_sixth_active_key_is_refused_with_a_clear_conflict(api_client, account):
    for index in range(4):
        assert api_client.post(URL, {"name": f"k{index}"}, format="json").status_code == 201
    # when
    response = api_client.post(URL, {"name": "one too many"}, format="json")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "api_key_limit_reached"
    assert "5" in response.json()["message"]
    assert response.json()["message"] == "You already have 5 active keys: revoke one first."
    assert response.json()["fields"] == {}
    assert ApiKey.objects.filter(account=account, revoked_at__isnull=True).count() == 5


def test_revoking_frees_a_slot_and_takes_effect_at_once(api_client, account):
    victim, victim_plaintext = make_api_key(account, name="victim")
    for index in range(3):
        api_client.post(URL, {"name": f"k{index}"}, format="json")
    assert bearer(victim_plaintext).get("/api/v1/account/").status_code == 200
    # when
    revoked = api_client.delete(f"{URL}{victim.pk}/")
    # then
    assert revoked.status_code == 204
    after = bearer(victim_plaintext).get("/api/v1/account/")
    assert after.status_code == 401
    assert after.json()["code"] == "authentication_failed"
    assert api_client.post(URL, {"name": "replacement"}, format="json").status_code == 201


def test_a_revoked_key_is_gone_from_the_api_and_kept_as_an_audit_record(api_client, account):
    """DELETE means gone (schemathesis's use_after_free check holds the API to it): the revoked
    key is a 404 at its URL, absent from the list, and a second DELETE is a 404 too; its row
    stays, with the revocation date, for the account's API keys page."""
    victim, _plaintext = make_api_key(account, name="victim")
    url = f"{URL}{victim.pk}/"
    assert api_client.get(url).status_code == 200
    # when
    assert api_client.delete(url).status_code == 204
    # then
    gone = api_client.get(url)
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"
    assert victim.pk not in [key["id"] for key in api_client.get(URL).json()["results"]]
    assert api_client.delete(url).status_code == 404
    victim.refresh_from_db()
    assert victim.revoked_at is not None


def test_unknown_malformed_and_missing_keys_get_401(db):
    AccountFactory()
    for header in [
        "Bearer se_live_0000000000000000000000000000000000000000",
        "Bearer not-a-key",
        "Bearer",
        "Bearer a b",
    ]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/account/")
        assert response.status_code == 401, header
        assert set(response.json()) == {"code", "message", "fields"}
    anonymous = APIClient().get("/api/v1/account/")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")


def test_basic_auth_with_account_number(api_key, account):
    plaintext = api_key[1]
    good = base64.b64encode(f"{account.number}:{plaintext}".encode()).decode()
    wrong_account = base64.b64encode(f"99999999:{plaintext}".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {good}")
    assert client.get("/api/v1/account/").json()["number"] == account.number
    client.credentials(HTTP_AUTHORIZATION=f"Basic {wrong_account}")
    assert client.get("/api/v1/account/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Basic !!!not-base64")
    assert client.get("/api/v1/account/").status_code == 401


def test_mode_is_reported(account):
    _key, test_plaintext = make_api_key(account, mode=ApiKey.Mode.TEST)
    assert bearer(test_plaintext).get("/api/v1/account/").json()["api_key"]["mode"] == "test"


def test_a_test_key_cannot_mint_a_live_key(account):
    _key, test_plaintext = make_api_key(account, mode=ApiKey.Mode.TEST)
    response = bearer(test_plaintext).post(URL, {"name": "escape", "mode": "live"}, format="json")
    assert response.status_code == 400
    assert "mode" in response.json()["fields"]


def test_plaintext_is_stored_nowhere(api_client, caplog):
    caplog.set_level(logging.DEBUG)
    plaintext = api_client.post(URL, {"name": "secret"}, format="json").json()["key"]
    bearer(plaintext).get("/api/v1/account/")
    # then: not in any table, not in the logs
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    secret_part = plaintext[16:]
    assert secret_part not in dump.getvalue()
    assert secret_part not in caplog.text
    stored = ApiKey.objects.get(name="secret")
    assert stored.hashed_key != plaintext and len(stored.hashed_key) == 64


def test_last_used_at_is_recorded(api_key):
    key, plaintext = api_key
    assert key.last_used_at is None
    bearer(plaintext).get("/api/v1/account/")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_validation_errors_use_the_error_shape(api_client):
    response = api_client.post(URL, {"name": "  ", "mode": "gold"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"name", "mode"}


@override_settings(API_KEY_RATE="3/minute")
def test_throttling_answers_429_with_retry_after(api_client):
    from django.core.cache import cache

    cache.clear()
    statuses = [api_client.get("/api/v1/account/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api_client.get("/api/v1/account/")
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0
    cache.clear()


def test_unknown_api_url_answers_json_404(api_client):
    response = api_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_account_settings_via_api(api_client, account):
    # when
    response = api_client.patch(
        "/api/v1/account/", {"name": "Nouvelle boutique", "timezone": "America/Montreal"}
    )
    # then
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.name, account.timezone) == ("Nouvelle boutique", "America/Montreal")


def test_an_unknown_time_zone_is_a_400_on_its_field(api_client, account):
    bad = api_client.patch("/api/v1/account/", {"timezone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400
    assert "timezone" in bad.json()["fields"]
    account.refresh_from_db()
    assert account.timezone == "Europe/Paris"


def test_list_endpoint_query_count_does_not_grow(
    api_client, account, django_assert_max_num_queries
):
    for index in range(4):
        make_api_key(account, name=f"k{index}")
    with django_assert_max_num_queries(4):
        response = api_client.get(URL)
    assert len(response.json()["results"]) == 5


def test_the_key_making_the_request_is_revoked_only_with_self_true(api_client, api_key):
    own, plaintext = api_key
    url = f"{URL}{own.pk}/"
    # when: a plain DELETE of its own key
    refused = api_client.delete(url)
    # then: a 409 that says how, and the key still works
    assert refused.status_code == 409
    assert refused.json()["code"] == "revoking_own_key"
    assert "self=true" in refused.json()["message"]
    assert bearer(plaintext).get("/api/v1/account/").status_code == 200
    # a malformed flag is a 400, not a revocation
    assert api_client.delete(f"{url}?self=yes").status_code == 400
    assert api_client.delete(f"{url}?self=false").status_code == 409
    # when: asked explicitly
    assert api_client.delete(f"{url}?self=true").status_code == 204
    assert bearer(plaintext).get("/api/v1/account/").status_code == 401


def test_the_self_parameter_and_the_409_are_documented():
    import yaml

    out = io.StringIO()
    call_command("spectacular", stdout=out)
    operation = yaml.safe_load(out.getvalue())["paths"]["/api/v1/api-keys/{id}/"]["delete"]
    # told in the text, not declared: a declared boolean would be sent as `true` by schemathesis
    assert "?self=true" in operation["description"]
    assert all(p["name"] != "self" for p in operation.get("parameters", []))
    assert "revoking_own_key" in operation["responses"]["409"]["description"]
