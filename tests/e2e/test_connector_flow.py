"""The shop owner's main path, in headless Chromium, against the loopback Magento simulator and
a real Celery worker on the `sync` queue: connect the shop, test the connection, run the first
import, watch the run log, find the ready-made segments."""

import re

import pytest

from connectors.magento.simulator import MagentoShop, MagentoSimulator
from contacts.models import Contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def magento():
    shop = MagentoShop(customers=40, seed=5)
    simulator = MagentoSimulator(shop).start()
    yield shop, simulator
    simulator.stop()


def test_connect_test_run_and_see_the_log(
    logged_in_page, live_server, account, magento, celery_worker
):
    shop, simulator = magento
    page = logged_in_page
    page.get_by_role("link", name="Connecteurs").click()
    page.get_by_role("button", name="Connecter une boutique").click()
    page.get_by_label("Nom", exact=True).fill("Ma boutique Magento")
    page.get_by_label("URL de la boutique", exact=True).fill(simulator.url)
    page.get_by_label("Consumer key", exact=True).fill("ck-simulator")
    page.get_by_label("Consumer secret", exact=True).fill("cs-simulator")
    page.get_by_label("Access token", exact=True).fill("at-simulator")
    page.get_by_label("Access token secret", exact=True).fill("ats-simulator")
    page.get_by_role("button", name="Créer la connexion").click()
    page.wait_for_url(re.compile(r"/connectors/\d+/$"))
    assert "ats-simulator" not in page.content()

    page.get_by_role("button", name="Tester la connexion").click()
    page.get_by_text("La connexion fonctionne").wait_for()
    assert "Boutique Belgique (fr_be)" in page.content()

    page.get_by_role("button", name="Lancer maintenant").click()
    page.get_by_test_id("run-row-status").first.filter(has_text="Réussi").wait_for(timeout=60_000)
    page.reload()
    created = int(page.get_by_test_id("run-created").first.inner_text())
    assert created == Contact.objects.filter(account=account).count() > 40
    segments = page.get_by_test_id("segments")
    assert "[MB] Acheteurs réguliers (2 commandes ou plus)" in segments.inner_text()
    segments.get_by_role("link", name="[MB] Abonnés à la newsletter").click()
    page.wait_for_url(re.compile(r"/contacts/segments/\d+/"))

    # a shop that refuses the credentials: a precise message, no stack trace
    simulator.consumer_secret = "changed"
    page.go_back()
    page.get_by_role("button", name="Tester la connexion").click()
    page.get_by_text("La boutique a refusé ces identifiants", exact=False).wait_for()
