import pytest

from tests.factories import AccountFactory, MembershipFactory, make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def their_key():
    return make_api_key(AccountFactory(), name="theirs")[0]


def test_another_accounts_key_cannot_be_read_over_the_api(api_client, their_key):
    assert api_client.get(f"/api/v1/api-keys/{their_key.pk}/").status_code == 404


def test_another_accounts_key_cannot_be_revoked_over_the_api(api_client, their_key):
    # when
    response = api_client.delete(f"/api/v1/api-keys/{their_key.pk}/")
    # then
    assert response.status_code == 404
    their_key.refresh_from_db()
    assert their_key.is_active


def test_another_accounts_key_is_not_listed(api_client, their_key):
    listed = api_client.get("/api/v1/api-keys/").json()["results"]
    assert "theirs" not in [row["name"] for row in listed]


def test_another_accounts_key_is_a_404_on_the_page(logged_in_client, their_key):
    response = logged_in_client.post(f"/api-keys/{their_key.pk}/revoke/")
    assert response.status_code == 404
    their_key.refresh_from_db()
    assert their_key.is_active


def test_account_endpoint_returns_the_keys_own_account(api_client, account):
    MembershipFactory(account=AccountFactory(name="Autre"))
    assert api_client.get("/api/v1/account/").json()["number"] == account.number
