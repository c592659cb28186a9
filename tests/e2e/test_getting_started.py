"""A new account's dashboard opens on a getting-started checklist that ticks itself as the
marketer does each step, and that can be hidden (and brought back)."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_checklist_ticks_itself_and_can_be_hidden(logged_in_page, live_server):
    page = logged_in_page
    checklist = page.get_by_test_id("getting-started")
    assert "0 étape sur 5 terminée" in checklist.inner_text()
    assert checklist.get_by_test_id("step-api_key").get_attribute("data-done") == "false"

    # the step's link leads where it is done: create a key there
    checklist.get_by_role("link", name="Créez une clé API").click()
    page.get_by_label("Nom").fill("Site web")
    page.get_by_role("button", name="Créer la clé").click()
    page.get_by_test_id("new-key").wait_for()

    page.goto("/")
    checklist = page.get_by_test_id("getting-started")
    assert checklist.get_by_test_id("step-api_key").get_attribute("data-done") == "true"
    assert "1 étape sur 5 terminée" in checklist.inner_text()

    # the shop step leads to the connectors' settings
    checklist.get_by_role("link", name="Connectez votre boutique").click()
    page.get_by_role("heading", name="Connecteurs de boutique").wait_for()

    # hidden, then shown again
    page.goto("/")
    page.get_by_role("button", name="Masquer cette liste").click()
    page.get_by_text("La liste des premiers pas est masquée.").wait_for()
    assert page.get_by_test_id("getting-started").count() == 0
    page.get_by_role("button", name="Afficher la liste des premiers pas").click()
    page.get_by_test_id("getting-started").wait_for()
