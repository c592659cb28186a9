"""`{{ cart.* }}` merge tags: the registry campaigns keep, filled by connectors' provider."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from campaigns import merge_context, merge_tags, rendering
from campaigns.email_channel import EMAIL
from campaigns.models import EmailCampaign, Message
from connectors.models import ShopCart, ShopConnection, ShopOrder
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


def shop(account, name="Boutique", url="https://boutique.example", delay=3):
    return ShopConnection.objects.create(
        account=account, name=name, shop_url=url, cart_delay_hours=delay
    )


def cart(connection, email, *, hours_ago=5, items=None, total="25.2000", external_id=1):
    return ShopCart.objects.create(
        connection=connection,
        external_id=external_id,
        email=email,
        items=items
        if items is not None
        else [
            {"name": "Thé vert <bio>", "sku": "THE", "qty": 2.0, "price": "8.4000"},
            {"name": "Mug", "sku": "MUG", "qty": 1.0, "price": "8.4000"},
        ],
        total=Decimal(total),
        currency="EUR",
        updated_at=NOW - timedelta(hours=hours_ago),
    )


def values_of(contact):
    return merge_tags.contact_values(contact, contact.account)


def test_cart_tags_are_registered_by_connectors_and_known_to_validation():
    assert "cart" in merge_context.registered()
    for name in ("url", "total", "currency", "item_count", "updated_at", "items"):
        assert merge_tags.validate(f"{{{{ cart.{name} }}}}", set()) == []
    [problem] = merge_tags.validate("{{ cart.secret }}", set())
    assert "cart.secret" in problem.message
    # a row's tags exist inside a repeat block only, and only the list's fields
    block = "<!--sendethic:repeat cart.items limit=3--><p>{{ item.name }} {{ item.price }}</p><!--/sendethic:repeat-->"
    assert merge_tags.validate(block, set()) == []
    assert "item.name" in merge_tags.validate("{{ item.name }}", set())[0].message
    bad_field = block.replace("item.price", "item.password")
    assert "item.password" in merge_tags.validate(bad_field, set())[0].message
    bad_list = block.replace("cart.items", "cart.total")
    assert "cart.total" in merge_tags.validate(bad_list, set())[0].message
    too_many = block.replace("limit=3", "limit=99")
    assert merge_tags.validate(too_many, set())
    assert merge_tags.validate("<!--sendethic:repeat cart.items limit=3--><p>", set())
    assert merge_tags.validate("<!--sendethic:if cart.nope-->x<!--/sendethic:if-->", set())
    assert merge_tags.validate("<!--sendethic:if cart.url-->x<!--/sendethic:if-->", set()) == []


def test_a_contact_with_an_abandoned_cart_gets_its_content_escaped(account):
    connection = shop(account)
    contact = ContactFactory(account=account, email="marie@example.com")
    cart(connection, "marie@example.com")
    values = values_of(contact)
    html = merge_tags.render(
        "<a href='{{ cart.url }}'>{{ cart.item_count }} articles, {{ cart.total }} "
        "{{ cart.currency }}</a> {{ cart.items }} ({{ cart.updated_at }})"
        "<!--sendethic:repeat cart.items limit=5--><li>{{ item.name }} × {{ item.quantity }}"
        " à {{ item.price }}</li><!--/sendethic:repeat-->",
        values,
        escape=True,
    )
    assert "href='https://boutique.example/checkout/cart/'" in html
    assert "3 articles, 25.20 EUR" in html
    assert "2 × Thé vert &lt;bio&gt;, 1 × Mug" in html
    assert "<li>Thé vert &lt;bio&gt; × 2 à 8.40</li><li>Mug × 1 à 8.40</li>" in html
    assert "<bio>" not in html
    local = (NOW - timedelta(hours=5)).astimezone(__import__("zoneinfo").ZoneInfo(account.timezone))
    assert local.strftime("%d/%m/%Y %H:%M") in html
    # the limit holds
    two = "<!--sendethic:repeat cart.items limit=1-->[{{ item.sku }}]<!--/sendethic:repeat-->"
    assert merge_tags.render(two, values_of(contact), escape=True) == "[THE]"


def test_no_cart_gives_defaults_never_an_error(account):
    contact = ContactFactory(account=account, email="nobody@example.com")
    text = (
        '{{ cart.total }}|{{ cart.item_count }}|{{ cart.url | default:"https://shop" }}|'
        "<!--sendethic:repeat cart.items limit=3-->row<!--/sendethic:repeat-->|"
        "<!--sendethic:if cart.url-->cart<!--/sendethic:if-->"
    )
    assert merge_tags.render(text, values_of(contact), escape=True) == "0.00|0|https://shop||"
    # a contact not saved (the preview without a contact) and a plain dict (thumbnails) too
    from contacts.models import Contact

    blank = merge_tags.contact_values(Contact(account=account, fields={}), account)
    assert merge_tags.render(text, blank, escape=True) == "0.00|0|https://shop||"
    assert merge_tags.render(text, {}, escape=True) == "||https://shop||"


def test_only_ripe_carts_without_a_later_order_and_of_this_account(account):
    connection = shop(account)
    fresh = ContactFactory(account=account, email="fresh@example.com")
    cart(connection, "fresh@example.com", hours_ago=1, external_id=1)  # delay is 3 h
    ordered = ContactFactory(account=account, email="ordered@example.com")
    cart(connection, "ordered@example.com", hours_ago=10, external_id=2)
    ShopOrder.objects.create(
        connection=connection, external_id=1, email="ordered@example.com", state="processing",
        grand_total=Decimal(10), created_at=NOW - timedelta(hours=2), updated_at=NOW,
    )  # fmt: skip
    empty = ContactFactory(account=account, email="empty@example.com")
    cart(connection, "empty@example.com", items=[], external_id=3)
    # another account's shop has a cart for the same address
    other = AccountFactory()
    cart(shop(other), "fresh@example.com", hours_ago=10, external_id=4)
    for contact in (fresh, ordered, empty):
        assert values_of(contact).get("cart.item_count") == "0", contact.email
    # of two shops, the newest abandoned cart wins
    second = shop(account, name="Autre", url="https://autre.example")
    cart(second, "fresh@example.com", hours_ago=4, external_id=5, total="5")
    assert values_of(fresh).get("cart.url") == "https://autre.example/checkout/cart/"
    assert values_of(fresh).get("cart.total") == "5.00"


def test_a_failing_provider_or_a_hostile_url_leaves_the_defaults(account):
    contact = ContactFactory(account=account, email="x@example.com")

    def boom(account, contact):
        raise RuntimeError("shop mirror unreachable")

    def hostile(account, contact):
        return {"url": "javascript:alert(1)", "total": "1", "items": [{"url": "data:x"}]}

    previous = merge_context.registered()["cart"]
    try:
        merge_context.register(
            merge_context.MergeContext(
                namespace="cart", fields=previous.fields, lists=previous.lists, provider=boom
            )
        )
        assert values_of(contact).get("cart.total") == "0.00"
        merge_context.register(
            merge_context.MergeContext(
                namespace="cart", fields=previous.fields, lists=previous.lists, provider=hostile
            )
        )
        values = values_of(contact)
        assert values.get("cart.url") == "" and values.get("cart.items.0.url") == ""
        assert values.get("cart.total") == "1"
    finally:
        merge_context.register(previous)


def _render_one(account, html, contact):
    campaign = EmailCampaign.objects.create(
        account=account, name="c", subject="Bonjour {{ first_name }}", html=html
    )
    campaign = EmailCampaign.objects.select_related("account", "sender").get(pk=campaign.pk)
    prepared = EMAIL.prepare(campaign)
    message = Message(pk=1, campaign=campaign, email=contact.email, contact=contact)
    with CaptureQueriesContext(db_connection) as queries:
        outgoing = EMAIL.render(prepared, message)
        rendered = rendering.render_message(
            prepared.campaign, message, outgoing.values, preheader=""
        )
    return rendered, len(queries)


def test_rendering_runs_no_query_unless_a_cart_tag_is_used(account):
    cart(shop(account), "marie@example.com")
    contact = ContactFactory(account=account, email="marie@example.com", first_name="Marie")
    plain = "<p>Bonjour {{ first_name }}</p><a href='{{ unsubscribe_url }}'>stop</a>"
    rendered, count = _render_one(account, plain, contact)
    assert count == 0 and "Bonjour Marie" in rendered.html
    with_cart = plain + "<p>{{ cart.total }} {{ cart.currency }}</p>"
    rendered, count = _render_one(account, with_cart, contact)
    assert count > 0 and "25.20 EUR" in rendered.html
    # one load per message, however many cart tags the subject, text and HTML hold
    many = with_cart + "{{ cart.url }} {{ cart.items }}" * 20
    _rendered, count_many = _render_one(account, many, contact)
    assert count_many == count


def test_the_text_part_repeats_rows_as_the_html_does(account):
    cart(shop(account), "marie@example.com")
    contact = ContactFactory(account=account, email="marie@example.com")
    html = (
        "<html><body><table><!--sendethic:repeat cart.items limit=3--><tr><td>{{ item.name }}"
        "</td></tr><!--/sendethic:repeat--></table><a href='{{ unsubscribe_url }}'>x</a>"
        "</body></html>"
    )
    rendered, _count = _render_one(account, html, contact)
    assert "<td>Thé vert &lt;bio&gt;</td>" in rendered.html and "<td>Mug</td>" in rendered.html
    assert "Thé vert <bio>" in rendered.text and "Mug" in rendered.text
    assert "sendethic:" not in rendered.html + rendered.text


def test_campaign_save_validates_cart_tags(account):
    from campaigns.services import CampaignError, campaign_create

    campaign_create(account=account, data={"name": "ok", "html": "{{ cart.total }}"})
    with pytest.raises(CampaignError) as refused:
        campaign_create(account=account, data={"name": "ko", "html": "{{ cart.nothing }}"})
    assert "cart.nothing" in str(refused.value.fields)


def test_the_preview_as_a_contact_shows_its_cart(account, logged_in_client):
    from django.urls import reverse

    cart(shop(account), "marie@example.com")
    marie = ContactFactory(account=account, email="marie@example.com")
    campaign = EmailCampaign.objects.create(
        account=account, name="Relance", subject="s", html="<p>Total {{ cart.total }}</p>"
    )
    url = reverse("campaigns:preview", args=[campaign.pk])
    assert "Total 25.20" in logged_in_client.get(f"{url}?contact={marie.pk}").content.decode()
    assert "Total 0.00" in logged_in_client.get(url).content.decode()


def test_conditions_nest_and_unless_is_their_opposite():
    text = (
        "<!--sendethic:if a.x-->[<!--sendethic:if a.y-->y<!--/sendethic:if-->"
        "<!--sendethic:unless a.y-->no y<!--/sendethic:unless-->]<!--/sendethic:if-->"
    )
    assert merge_tags.expand_blocks(text, {"a.x": "1", "a.y": "2"}) == "[y]"
    assert merge_tags.expand_blocks(text, {"a.x": "1", "a.y": "0"}) == "[no y]"
    assert merge_tags.expand_blocks(text, {"a.x": ""}) == ""


def test_the_editor_menu_offers_the_cart_tags(account):
    from django.utils import translation

    from campaigns.editor.selectors import merge_tag_menu

    with translation.override("fr"):
        menu = {item["tag"]: item["label"] for item in merge_tag_menu(account)}
    assert menu["{{ cart.total }}"] == "Panier : total"
    assert menu["{{ cart.url }}"] == "Panier : lien pour le reprendre"
