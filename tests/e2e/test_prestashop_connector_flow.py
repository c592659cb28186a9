"""The shop owner's main path for PrestaShop, in headless Chromium, against the loopback
PrestaShop simulator (multistore, 1.7) and a real Celery worker on the `sync` queue: connect the
shop with its webservice key, test the connection (it lists the shops), pick one shop, run the
first import, watch the run log, find the [PS] segments."""

import re

import pytest

from connectors.prestashop.simulator import SIMULATOR_KEY, PrestaShopShop, PrestaShopSimulator
from contacts.models import Contact
from contacts.normalization import normalize_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prestashop():
    shop = PrestaShopShop(customers=40, seed=5, multistore=True)
    simulator = PrestaShopSimulator(shop, version="1.7").start()
    yield shop, simulator
    simulator.stop()


def test_connect_a_prestashop_pick_a_shop_and_run(
    logged_in_page, live_server, account, prestashop, celery_worker
):
    shop, simulator = prestashop
    page = logged_in_page
    page.get_by_role("link", name="Connecteurs").click()
    page.get_by_role("button", name="Connecter une boutique").click()
    page.get_by_role("link", name="PrestaShop").click()
    page.get_by_label("Nom", exact=True).fill("Ma boutique PrestaShop")
    page.get_by_label("URL de la boutique", exact=True).fill(simulator.url)
    page.get_by_label(re.compile(r"^Clé webservice")).fill(SIMULATOR_KEY)
    page.get_by_role("button", name="Créer la connexion").click()
    page.wait_for_url(re.compile(r"/connectors/\d+/$"))
    assert SIMULATOR_KEY not in page.content()

    page.get_by_role("button", name="Tester la connexion").click()
    page.get_by_text("La connexion fonctionne. Boutiques").wait_for()
    assert "2 — Boutique Belgique" in page.content()

    # sync only the Belgian shop: the shops found are offered as boxes to tick
    page.get_by_label("2 — Boutique Belgique").check()
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Paramètres enregistrés").wait_for()

    page.get_by_role("button", name="Lancer maintenant").click()
    page.get_by_test_id("run-row-status").first.filter(has_text="Réussi").wait_for(timeout=60_000)
    page.reload()
    created = int(page.get_by_test_id("run-created").first.inner_text())
    belgian = {
        normalize_email(c["email"]) for c in shop.tables["customers"].values() if c["id_shop"] == 2
    }
    keys = set(Contact.objects.filter(account=account).values_list("key", flat=True))
    assert created == len(keys) and belgian <= keys
    assert {c.fields.get("ps_shop_id") for c in Contact.objects.filter(account=account)} == {2}
    segments = page.get_by_test_id("segments")
    assert "[PS] Acheteurs réguliers (2 commandes ou plus)" in segments.inner_text()
    segments.get_by_role("link", name="[PS] Abonnés à la newsletter").click()
    page.wait_for_url(re.compile(r"/contacts/segments/\d+/"))

    # a key the shop no longer accepts: a precise message, no stack trace
    simulator.key = "Z" * 32
    page.go_back()
    page.get_by_role("button", name="Tester la connexion").click()
    page.get_by_text("La boutique a refusé cette clé webservice", exact=False).wait_for()
