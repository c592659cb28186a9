"""The dashboard's getting-started checklist ticks each step from the account's own data."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.getting_started import checklist_for
from campaigns.services import campaign_send_test
from connectors.credentials import ShopCredentials
from connectors.services import connection_create
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EmailCampaignFactory,
    SenderAddressFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db


def done(account):
    return {state.step.key: state.done for state in checklist_for(account).steps}


def test_a_new_account_has_every_step_open(account):
    assert done(account) == {
        "contacts": False, "sender": False, "test": False, "api_key": False, "shop": False,
    }  # fmt: skip


def test_each_step_ticks_from_real_data_of_this_account_only(account, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    other = AccountFactory()
    # another account's progress ticks nothing here
    ContactFactory(account=other)
    SenderAddressFactory(account=other)
    make_api_key(other)
    assert not any(done(account).values())

    # given the contacts and an unverified sender
    ContactFactory(account=account)
    SenderAddressFactory(account=account, verified_at=None)
    assert done(account)["contacts"] and not done(account)["sender"]

    # when the sender is verified, a test is sent and a key created
    sender = SenderAddressFactory(account=account, verified_at=timezone.now())
    account.email_verified_at = timezone.now()
    account.postal_address = "1 rue de la Paix, 75002 Paris"
    account.save()
    campaign = EmailCampaignFactory(account=account, sender=sender, html="<p>Bonjour</p>")
    campaign_send_test(campaign=campaign, recipients=["moi@example.com"])
    key, _plaintext = make_api_key(account)
    assert not done(account)["shop"]
    # and a shop is connected (no call to the shop: the connection is only recorded)
    connection_create(
        account=account,
        name="Boutique",
        shop_url="https://shop.example.com",
        credentials=ShopCredentials(access_token="token"),  # noqa: S106
        auth_method="bearer",
    )

    # then every step is done
    assert done(account) == {
        "contacts": True, "sender": True, "test": True, "api_key": True, "shop": True,
    }  # fmt: skip
    assert checklist_for(account).complete
    assert not done(other)["test"]

    # a revoked key no longer counts
    key.revoked_at = timezone.now()
    key.save()
    assert not done(account)["api_key"]


def test_dismiss_and_restore(logged_in_client, account):
    page = logged_in_client.get("/")
    assert b'data-testid="getting-started"' in page.content

    logged_in_client.post(reverse("accounts:getting_started"))
    assert b'data-testid="getting-started"' not in logged_in_client.get("/").content
    assert checklist_for(account).dismissed
    assert not checklist_for(AccountFactory()).dismissed  # per account

    logged_in_client.post(reverse("accounts:getting_started"), {"show": "1"})
    assert b'data-testid="getting-started"' in logged_in_client.get("/").content


def test_dismiss_needs_a_post(logged_in_client):
    assert logged_in_client.get(reverse("accounts:getting_started")).status_code == 405
