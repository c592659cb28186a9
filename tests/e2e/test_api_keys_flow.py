"""Main path of a new customer, in a real headless Chromium: sign up, log out, log in, create an
API key, see it once, call the API with it, revoke it, and see the API refuse it."""

import re

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_signup_login_create_call_and_revoke_an_api_key(page, live_server):
    # sign up (French by default)
    page.goto("/signup/")
    assert page.locator("h1").inner_text() == "Créez votre compte Sendethic"
    page.get_by_label("Société ou organisation").fill("Librairie Dupont")
    page.get_by_label("Adresse e-mail").fill("claire@example.com")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url(f"{live_server.url}/")
    account_number = page.get_by_test_id("account-number").inner_text()
    assert re.fullmatch(r"\d{8}", account_number)

    # log out, then log in again
    page.locator("nav summary", has_text="Librairie Dupont").click()
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url(re.compile(r"/login/"))
    page.get_by_label("Adresse e-mail").fill("claire@example.com")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{live_server.url}/")

    # create a key: shown once
    page.get_by_role("link", name="API", exact=True).click()
    page.get_by_label("Nom").fill("Boutique en ligne")
    page.get_by_role("button", name="Créer la clé").click()
    plaintext = page.get_by_test_id("new-key").inner_text()
    assert plaintext.startswith("se_live_")
    page.reload()
    assert page.get_by_test_id("new-key").count() == 0
    assert plaintext not in page.content()

    # call the API with it, Bearer and Basic
    response = page.request.get(
        "/api/v1/account/", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert response.status == 200
    assert response.json()["name"] == "Librairie Dupont"
    basic = page.request.get(
        "/api/v1/account/",
        headers={"Authorization": "Basic " + _basic(account_number, plaintext)},
    )
    assert basic.json()["number"] == account_number

    # revoke it: the API refuses it at once
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Révoquer").click()
    page.get_by_text("révoquée", exact=True).wait_for()
    refused = page.request.get("/api/v1/account/", headers={"Authorization": f"Bearer {plaintext}"})
    assert refused.status == 401


def test_language_switch_to_english(page, live_server):
    page.goto("/login/")
    assert page.locator("h1").inner_text() == "Connexion"
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"/login/"))
    assert page.locator("h1").inner_text() == "Log in"


def _basic(user, password):
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()
