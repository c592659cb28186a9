"""Signup proves the address before the account may send; logins and signups are throttled."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.errors import ServiceError
from accounts.models import Account
from accounts.services import (
    EMAIL_VERIFICATION_SALT,
    EmailNotVerified,
    InvalidVerificationLink,
    account_create_with_owner,
    email_verification_link,
    email_verify,
    ensure_account_may_send,
)
from accounts.throttle import (
    LOGIN_FAILURES_PER_ADDRESS,
    LOGIN_FAILURES_PER_IP,
    SIGNUP_LIMIT_PER_IP,
)
from campaigns.services import campaign_schedule, campaign_send_test
from tests.conftest import PASSWORD
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    EmailCampaignFactory,
    ListMembershipFactory,
    SenderAddressFactory,
    make_api_key,
)

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+/verify-email/\S+/")


def signed_up(client, email="anne@example.com"):
    response = client.post(
        "/signup/", {"company": "Fromagerie Durand", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return Account.objects.get(memberships__user__email=email)


def ready_campaign(account):
    """A campaign that passes every other check, so only verification can refuse it."""
    audience = ContactListFactory(account=account)
    ListMembershipFactory(contact_list=audience, contact=ContactFactory(account=account))
    campaign = EmailCampaignFactory(
        account=account,
        sender=SenderAddressFactory(account=account, email="news@shop.fr"),
        subject="Promo",
        html="<p>Promo</p><a href='{{ unsubscribe_url }}'>x</a>",
    )
    campaign.lists.add(audience)
    return campaign


def test_signup_mails_a_link_that_lets_the_account_send(client, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        account = signed_up(client)
    assert account.email_verified_at is None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["anne@example.com"]
    assert mail.outbox[0].sendethic_account_id == account.pk  # its own outbox
    link = LINK.search(mail.outbox[0].body).group(0)
    # when
    response = client.get(urlsplit(link).path)
    # then
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.email_verified_at is not None


def test_an_unverified_account_cannot_start_schedule_or_test_a_campaign():
    account, _owner = account_create_with_owner(
        name="Durand", owner_email="anne@example.com", owner_password=PASSWORD
    )
    campaign = ready_campaign(account)
    with pytest.raises(EmailNotVerified) as refused:
        campaign_schedule(campaign=campaign, at=None)
    assert refused.value.code == "email_not_verified"
    with pytest.raises(EmailNotVerified):
        campaign_send_test(campaign=campaign, recipients=["me@example.com"])
    campaign.refresh_from_db()
    assert campaign.status == "draft" and mail.outbox == []


def test_the_api_refuses_sending_with_the_code_email_not_verified():
    # given
    account, _owner = account_create_with_owner(
        name="Durand", owner_email="anne@example.com", owner_password=PASSWORD
    )
    campaign = ready_campaign(account)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(account)[1]}")
    base = f"/api/v1/campaigns/email/{campaign.pk}"
    # when
    scheduled = api.post(f"{base}/schedule/", {})
    tested = api.post(f"{base}/send-test/", {"recipients": ["me@example.com"]})
    # then
    assert scheduled.status_code == 409
    assert scheduled.json()["code"] == "email_not_verified"
    assert tested.status_code == 409 and tested.json()["code"] == "email_not_verified"


def test_the_campaign_page_says_why_it_cannot_send(client):
    # given
    account = signed_up(client)
    campaign = ready_campaign(account)
    # when
    response = client.post(f"/email/{campaign.pk}/schedule/", follow=True)
    # then
    page = response.content.decode()
    assert "Confirmez votre adresse e-mail avant d’envoyer" in page
    assert 'data-testid="verify-banner"' in page
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_the_banner_resends_the_link(client, django_capture_on_commit_callbacks):
    account = signed_up(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/verify-email/resend/", follow=True)
    assert "Un nouveau lien a été envoyé à anne@example.com." in response.content.decode()
    assert mail.outbox[-1].to == ["anne@example.com"]
    assert mail.outbox[-1].sendethic_account_id == account.pk


def test_a_verified_account_shows_no_banner(logged_in_client):
    assert 'data-testid="verify-banner"' not in logged_in_client.get("/").content.decode()


def test_a_tampered_or_expired_link_is_refused():
    account, owner = account_create_with_owner(
        name="Durand", owner_email="anne@example.com", owner_password=PASSWORD
    )
    token = email_verification_link(user=owner, account=account).rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(InvalidVerificationLink):
        email_verify(token=token[:-2] + "xx")
    other_key = override_settings(SECRET_KEY="another-key-entirely-different-from-the-first")
    with other_key, pytest.raises(InvalidVerificationLink):
        email_verify(token=token)
    stale = signing.dumps({"a": account.pk, "u": owner.pk, "e": owner.email}, salt="other")
    with pytest.raises(InvalidVerificationLink):
        email_verify(token=stale)
    account.refresh_from_db()
    assert account.email_verified_at is None
    with pytest.raises(EmailNotVerified):
        ensure_account_may_send(account)


def test_a_link_older_than_three_days_has_expired(monkeypatch):
    account, owner = account_create_with_owner(
        name="Durand", owner_email="anne@example.com", owner_password=PASSWORD
    )
    token = signing.dumps(
        {"a": account.pk, "u": owner.pk, "e": owner.email}, salt=EMAIL_VERIFICATION_SALT
    )
    monkeypatch.setattr("accounts.services.EMAIL_VERIFICATION_MAX_AGE", -1)
    with pytest.raises(InvalidVerificationLink) as refused:
        email_verify(token=token)
    assert "expiré" in refused.value.message or "expired" in refused.value.message


def test_accounts_an_operator_creates_may_send(capsys):
    call_command("createaccount", "Durand", "--owner", "anne@example.com")
    account = Account.objects.get(name="Durand")
    assert account.email_verified_at is not None
    ensure_account_may_send(account)


def test_the_signup_service_checks_the_password_with_django_validators():
    with pytest.raises(ServiceError) as refused:
        account_create_with_owner(
            name="Durand", owner_email="anne@example.com", owner_password="12345678"
        )
    assert set(refused.value.fields) == {"password"}
    assert not Account.objects.exists()


def test_signup_shows_the_validators_messages(client):
    response = client.post(
        "/signup/", {"company": "X", "email": "anne@example.com", "password": "azerty"}
    )
    errors = response.context["form"].errors["password"]
    assert any("trop court" in error for error in errors)
    assert any("trop courant" in error for error in errors)


def test_five_failed_logins_lock_the_address_out_for_this_ip(client, owner):
    for _attempt in range(4):
        failed = client.post("/login/", {"username": owner.email, "password": "wrong"})
        assert failed.status_code == 200
    fifth = client.post("/login/", {"username": owner.email, "password": "wrong"})
    assert fifth.status_code == 429
    # even the right password is refused now, with the reason
    locked = client.post("/login/", {"username": owner.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # another IP is not locked out by this one's failures
    elsewhere = client.post(
        "/login/", {"username": owner.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert elsewhere.status_code == 302


def test_signups_from_one_ip_are_throttled(client):
    for n in range(SIGNUP_LIMIT_PER_IP):
        client.post("/signup/", {"company": "X", "email": f"p{n}@example.com", "password": "1"})
    refused = client.post(
        "/signup/", {"company": "Y", "email": "last@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert "Trop de tentatives d’inscription" in refused.content.decode()
    assert not Account.objects.filter(name="Y").exists()


def test_one_ip_trying_many_addresses_is_stopped_for_an_hour(client, owner):
    # Credential stuffing: one failure per address never trips axes (keyed on address + IP).
    for n in range(LOGIN_FAILURES_PER_IP):
        client.post("/login/", {"username": f"victim{n}@example.com", "password": "guess"})
    refused = client.post("/login/", {"username": owner.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert "réessayez dans une heure" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # the owner, from their own connection, still signs in
    elsewhere = client.post(
        "/login/", {"username": owner.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert elsewhere.status_code == 302


def test_one_address_tried_from_many_ips_is_stopped_for_an_hour(client, owner):
    # A botnet guessing one password: four tries per IP stay under axes' five.
    for n in range(LOGIN_FAILURES_PER_ADDRESS):
        ip = f"10.1.{n // 4}.{n % 4 + 1}"
        failed = client.post(
            "/login/", {"username": owner.email.upper(), "password": "guess"}, REMOTE_ADDR=ip
        )
        assert failed.status_code == 200
    refused = client.post(
        "/login/", {"username": owner.email, "password": PASSWORD}, REMOTE_ADDR="10.2.0.1"
    )
    assert refused.status_code == 429
    # another address from the same IPs is not affected
    other = client.post(
        "/login/", {"username": "someone@example.com", "password": "x"}, REMOTE_ADDR="10.2.0.1"
    )
    assert other.status_code == 200
