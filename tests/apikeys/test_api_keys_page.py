import pytest

from accounts.models import Membership
from apikeys.models import ApiKey
from tests.factories import MembershipFactory, make_api_key

pytestmark = pytest.mark.django_db


def test_created_key_is_shown_exactly_once(logged_in_client, account):
    response = logged_in_client.post("/api-keys/", {"name": "Site", "mode": "live"}, follow=True)
    key = ApiKey.objects.get(account=account, name="Site")
    page = response.content.decode()
    assert key.prefix in page
    shown = page.split('data-testid="new-key">')[1].split("<")[0]
    assert shown.startswith(key.prefix) and len(shown) == 48
    again = logged_in_client.get("/api-keys/").content.decode()
    assert shown not in again


def test_limit_reached_is_explained(logged_in_client, account):
    # given
    for index in range(5):
        make_api_key(account, name=f"k{index}")
    # when
    response = logged_in_client.post("/api-keys/", {"name": "6th", "mode": "live"}, follow=True)
    # then
    assert not ApiKey.objects.filter(name="6th").exists()
    assert "5" in response.content.decode()
    assert "Vous avez déjà 5 clés actives : révoquez-en une d&#x27;abord." in (
        response.content.decode()
    )


def test_revoke_from_the_page(logged_in_client, account):
    key, _ = make_api_key(account)
    response = logged_in_client.post(f"/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert not key.is_active
    # the page keeps the revoked key as the audit record (the API answers 404 for it)
    page = logged_in_client.get("/api-keys/").content.decode()
    assert key.name in page and key.prefix in page
    assert 'class="badge badge-revoked"' in page


def test_plain_members_cannot_manage_keys(client, account):
    member = MembershipFactory(account=account, role=Membership.Role.MEMBER).user
    client.force_login(member)
    assert client.get("/api-keys/").status_code == 403
    assert client.post("/api-keys/", {"name": "x", "mode": "live"}).status_code == 403


def test_page_requires_login(client):
    response = client.get("/api-keys/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
