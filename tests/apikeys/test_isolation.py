import pytest

from tests.factories import AccountFactory, MembershipFactory, make_api_key

pytestmark = pytest.mark.django_db


def test_another_accounts_key_is_a_404_over_the_api(api_client):
    other_key, _ = make_api_key(AccountFactory(), name="theirs")
    assert api_client.get(f"/api/v1/api-keys/{other_key.pk}/").status_code == 404
    assert api_client.delete(f"/api/v1/api-keys/{other_key.pk}/").status_code == 404
    other_key.refresh_from_db()
    assert other_key.is_active
    listed = api_client.get("/api/v1/api-keys/").json()["results"]
    assert "theirs" not in [row["name"] for row in listed]


def test_another_accounts_key_is_a_404_on_the_page(logged_in_client):
    other_key, _ = make_api_key(AccountFactory(), name="theirs")
    response = logged_in_client.post(f"/api-keys/{other_key.pk}/revoke/")
    assert response.status_code == 404
    other_key.refresh_from_db()
    assert other_key.is_active


def test_account_endpoint_returns_the_keys_own_account(api_client, account):
    MembershipFactory(account=AccountFactory(name="Autre"))
    assert api_client.get("/api/v1/account/").json()["number"] == account.number
