"""The cart block in the editor, in headless Chromium: added from the palette, set up, saved,
and previewed as a contact with an abandoned cart and as one without."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.models import ShopCart, ShopConnection
from tests.e2e.test_block_editor import _watch_console
from tests.factories import ContactFactory, EmailCampaignFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_cart_block_shows_each_contact_their_own_cart(logged_in_page, account):
    # given a contact with an abandoned cart of two items, and one without a cart
    connection = ShopConnection.objects.create(
        account=account, name="Boutique", shop_url="https://boutique.example"
    )
    ShopCart.objects.create(
        connection=connection,
        external_id=1,
        email="marie@example.com",
        items=[
            {"name": "Thé vert <bio>", "sku": "THE", "qty": 2, "price": "8.4"},
            {"name": "Mug en grès", "sku": "MUG", "qty": 1, "price": "12"},
        ],
        total=Decimal("28.8"),
        currency="EUR",
        updated_at=datetime.now(UTC) - timedelta(hours=6),
    )
    ContactFactory(account=account, email="marie@example.com", first_name="Marie")
    ContactFactory(account=account, email="paul@example.com", first_name="Paul")
    campaign = EmailCampaignFactory(account=account, subject="Votre panier")
    page = logged_in_page
    problems = _watch_console(page)

    # when: a cart block added from the palette, one item at most, a text for no cart
    page.goto(f"/email/{campaign.pk}/editor/?start=blank")
    page.get_by_test_id("block-editor").wait_for()
    page.get_by_test_id("editor-block").first.click()
    page.get_by_test_id("add-cart").click()
    page.get_by_test_id("cart-preview").wait_for()
    page.get_by_label("Articles affichés au plus").fill("1")
    page.get_by_label("Articles affichés au plus").press("Tab")
    page.get_by_label("Texte pour un contact sans panier (vide : rien)").fill(
        "Découvrez nos nouveautés"
    )
    page.get_by_label("Texte pour un contact sans panier (vide : rien)").press("Tab")
    assert page.get_by_test_id("cart-preview").locator("tr").count() == 2  # 1 item + total
    page.get_by_test_id("editor-save").click()
    page.get_by_test_id("editor-status").filter(has_text="Enregistré.").wait_for()

    # then: saved with the block, and the preview as Marie shows her cart, escaped
    campaign.refresh_from_db()
    [cart] = [
        b
        for s in campaign.design["sections"]
        for c in s["columns"]
        for b in c["blocks"]
        if b["type"] == "cart"
    ]
    assert cart["max_items"] == 1 and cart["label"] == "Finaliser ma commande"
    assert "<!--sendethic:repeat cart.items limit=1-->" in campaign.html
    page.get_by_test_id("editor-preview-contact").select_option(label="marie@example.com")
    page.get_by_test_id("editor-preview").click()
    page.get_by_test_id("editor-status").filter(has_text="Aperçu mis à jour").wait_for()
    desktop = page.frame_locator("#editor-preview-desktop")
    desktop.get_by_text("Thé vert <bio>").wait_for()
    assert desktop.get_by_text("Mug en grès").count() == 0  # one item at most
    assert desktop.get_by_text("28.80 EUR").is_visible()
    link = desktop.get_by_role("link", name="Finaliser ma commande")
    assert link.get_attribute("href") == "https://boutique.example/checkout/cart/"
    assert desktop.get_by_text("Découvrez nos nouveautés").count() == 0

    # and as Paul, who has no cart: the text instead of the rows and the button
    page.get_by_test_id("editor-preview-contact").select_option(label="paul@example.com")
    page.get_by_test_id("editor-preview").click()
    desktop.get_by_text("Découvrez nos nouveautés").wait_for()
    assert desktop.get_by_role("link", name="Finaliser ma commande").count() == 0
    assert problems == [], problems
