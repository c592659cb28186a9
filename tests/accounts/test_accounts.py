import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail

from accounts.errors import ServiceError
from accounts.models import Account, Membership
from accounts.services import EmailAlreadyRegistered, account_create_with_owner, account_update
from tests.conftest import PASSWORD
from tests.factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_account_and_owner_and_logs_in(client):
    response = client.post(
        "/signup/",
        {"company": "Fromagerie Durand", "email": "Anne@Example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    account = Account.objects.get(name="Fromagerie Durand")
    membership = Membership.objects.get(account=account)
    assert membership.user.email == "anne@example.com"
    assert membership.role == Membership.Role.OWNER
    assert re.fullmatch(r"[1-9]\d{7}", account.number)
    assert account.timezone == "Europe/Paris" and account.default_phone_region == "FR"
    assert client.get("/").status_code == 200


def test_signup_refuses_a_taken_email_and_weak_password(client, owner):
    response = client.post(
        "/signup/", {"company": "X", "email": owner.email.upper(), "password": "123"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"email", "password"}
    assert Account.objects.count() == 1


def test_an_email_registered_meanwhile_is_refused_on_the_signup_form(client, monkeypatch):
    # given: the address is taken between the form's check and the service's
    from accounts import forms

    monkeypatch.setattr(forms.SignupForm, "clean_email", lambda form: form.cleaned_data["email"])
    UserFactory(email="anne@example.com")
    # when
    response = client.post(
        "/signup/", {"company": "Durand", "email": "anne@example.com", "password": PASSWORD}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "email": ["Un compte utilise déjà cette adresse e-mail."]
    }
    assert not Account.objects.filter(name="Durand").exists()


def test_the_signup_service_refuses_a_taken_email_with_its_code(owner):
    with pytest.raises(EmailAlreadyRegistered) as refused:
        account_create_with_owner(name="X", owner_email=owner.email.upper(), owner_password=None)
    assert refused.value.code == "email_taken"
    assert list(refused.value.fields) == ["email"]


def test_login_is_case_insensitive_on_email(client, owner):
    response = client.post("/login/", {"username": owner.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_logout(logged_in_client):
    logged_in_client.post("/logout/")
    assert logged_in_client.get("/").status_code == 302


def test_password_reset_by_email(client, owner):
    client.post("/password-reset/", {"email": owner.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/password-reset/\S+/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("/", 3)[3]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    new_password = "an entirely new passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new_password)


def test_switch_account_to_an_own_membership(logged_in_client, owner):
    # given
    second = MembershipFactory(user=owner, account=AccountFactory(name="Zeta")).account
    # when
    logged_in_client.post("/account/switch/", {"account": second.pk})
    # then
    assert logged_in_client.get("/").context["current_account"] == second


def test_switch_account_to_a_strangers_account_is_refused(logged_in_client, owner, account):
    # given
    stranger = AccountFactory(name="Not mine")
    # when
    response = logged_in_client.post("/account/switch/", {"account": stranger.pk})
    # then
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Vous n'êtes pas membre de ce compte."
    ]
    assert logged_in_client.get("/").context["current_account"] == account


def test_settings_update(logged_in_client, account):
    response = logged_in_client.post(
        "/account/settings/",
        {
            "name": "Renamed",
            "timezone": "Europe/Brussels",
            "language": "en",
            "default_phone_region": "BE",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.timezone, account.language, account.default_phone_region) == (
        "Renamed",
        "Europe/Brussels",
        "en",
        "BE",
    )


def test_the_settings_service_refuses_an_invalid_value_field_by_field(account):
    with pytest.raises(ServiceError) as refused:
        account_update(account=account, timezone="Mars/Olympus", name="")
    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"timezone", "name"}


def test_members_cannot_change_settings(client, account):
    member = MembershipFactory(account=account, role=Membership.Role.MEMBER).user
    client.force_login(member)
    assert client.post("/account/settings/", {"name": "x"}).status_code == 403


def test_pages_are_french_by_default_and_english_on_switch(client, owner):
    login_page = client.get("/login/").content.decode()
    assert "Connexion" in login_page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Log in" in client.get("/login/").content.decode()
