"""The block editor's cart block: compiled once, its rows expanded per message from the cart
merge context, every value escaped."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaigns import merge_tags, rendering
from campaigns.editor.compiler import design_to_html, design_to_mjml
from campaigns.editor.design import DesignInvalid, design_normalise
from campaigns.editor.services import campaign_design_save
from campaigns.models import EmailCampaign, Message
from connectors.models import ShopCart, ShopConnection
from tests.factories import ContactFactory, EmailCampaignFactory

FOOTER = {"type": "text", "html": '<p><a href="{{ unsubscribe_url }}">Se désinscrire</a></p>'}


def design_with(cart_block: dict) -> dict:
    return design_normalise(
        {"sections": [{"columns": [{"blocks": [{"type": "cart", **cart_block}, FOOTER]}]}]}
    )


def cart_for(account, email, items):
    connection = ShopConnection.objects.create(
        account=account, name="Boutique", shop_url="https://boutique.example"
    )
    ShopCart.objects.create(
        connection=connection,
        external_id=1,
        email=email,
        items=items,
        total=Decimal("42.5"),
        currency="EUR",
        updated_at=datetime.now(UTC) - timedelta(hours=6),
    )


def rendered_for(campaign, contact):
    prepared = rendering.prepare(campaign)
    message = Message(pk=1, campaign=campaign, email=contact.email, contact=contact)
    values = merge_tags.contact_values(contact, campaign.account)
    return rendering.render_message(prepared, message, values, preheader="")


def test_the_cart_block_is_validated_with_paths():
    with pytest.raises(DesignInvalid) as refused:
        design_with({"max_items": 11, "show_images": "yes", "button_color": "red"})
    fields = refused.value.fields
    prefix = "sections[0].columns[0].blocks[0]"
    assert set(fields) == {f"{prefix}.max_items", f"{prefix}.show_images", f"{prefix}.button_color"}
    block = design_with({})["sections"][0]["columns"][0]["blocks"][0]
    assert block["max_items"] == 3 and block["show_images"] is True and block["label"] == ""


def test_the_cart_block_compiles_to_a_repeat_of_fixed_item_fields():
    design = design_with({"max_items": 2, "label": "Finaliser", "total_label": "Total"})
    mjml = design_to_mjml(design)
    assert "<!--sendethic:repeat cart.items limit=2-->" in mjml
    assert 'href="{{ cart.url }}"' in mjml
    html = design_to_html(design)
    # the markers survive mrml, and everything in the compiled email is a known tag
    assert html.count("sendethic:repeat") == 2 and "{{ item.image_url }}" in html
    assert merge_tags.validate(html, set()) == []
    no_images = design_to_html(design_with({"show_images": False}))
    assert "item.image_url" not in no_images


@pytest.mark.django_db
def test_each_contact_gets_its_own_rows_escaped_up_to_the_limit(account):
    campaign = EmailCampaignFactory(account=account)
    design = design_with(
        {
            "max_items": 2,
            "label": "Reprendre mon panier",
            "total_label": "Total",
            "empty_text": "Découvrez nos nouveautés",
        }
    )
    campaign_design_save(campaign=campaign, design=design)
    campaign = EmailCampaign.objects.select_related("account", "sender").get(pk=campaign.pk)
    cart_for(
        account,
        "marie@example.com",
        [
            {"name": "Thé <script>alert(1)</script>", "qty": 2, "price": "8.4",
             "image_url": "https://boutique.example/the.jpg"},
            {"name": "Mug", "qty": 1, "price": "10"},
            {"name": "Théière", "qty": 1, "price": "15.7"},
        ],
    )  # fmt: skip
    marie = ContactFactory(account=account, email="marie@example.com")
    paul = ContactFactory(account=account, email="paul@example.com")

    html = rendered_for(campaign, marie).html

    assert "Thé &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Mug" in html and "Théière" not in html  # limit 2
    assert 'src="https://boutique.example/the.jpg"' in html
    assert 'alt="Mug"' not in html and 'src=""' not in html  # no image: no empty <img>
    assert "× 2" in html and "8.40 EUR" in html and "42.50 EUR" in html
    assert 'href="https://boutique.example/checkout/cart/"' in html
    assert "Reprendre mon panier" in html and "Découvrez nos nouveautés" not in html
    assert "sendethic:" not in html and "{{" not in html

    without = rendered_for(campaign, paul)
    assert "Découvrez nos nouveautés" in without.html
    assert "Reprendre mon panier" not in without.html and "EUR" not in without.html
    assert "Reprendre mon panier" not in without.text and "{{" not in without.text
