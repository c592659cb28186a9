"""A marketer builds the abandoned-cart recipe from the gallery, looks at its steps, activates
it; a cart abandoned in the (simulated) shop makes the reminder arrive in the outbox."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from automations import engine
from automations.models import Enrolment, Scenario
from campaigns.models import OutboxMessage
from connectors import services as connector_services
from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.models import SyncRun
from connectors.services import connection_create, sync_start
from connectors.sync import sync_run_execute
from sms.models import SmsSender
from tests.connectors.conftest import SIMULATOR_CREDENTIALS, fast_client
from tests.factories import SenderAddressFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_sync(connection, kind=None):
    run = sync_start(connection=connection, kind=kind)
    return sync_run_execute(run.pk, fast_client)


def test_cart_reminder_recipe_from_gallery_to_outbox(
    logged_in_page, live_server, account, settings, monkeypatch
):
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    # the test runs the shop syncs itself, instead of the sync queue's worker
    monkeypatch.setattr(connector_services, "run_dispatcher", lambda run_id: None)
    SenderAddressFactory(account=account, email="news@boutique.example", name="Boutique")
    SmsSender.objects.create(account=account, value="Boutique")
    page = logged_in_page

    # the gallery: the abandoned-cart recipe with its senders
    page.get_by_role("link", name="Scénarios").first.click()
    card = page.get_by_test_id("recipe-abandoned_cart")
    card.get_by_label("Expéditeur e-mail").select_option(label="news@boutique.example")
    card.get_by_role("button", name="Utiliser cette recette").click()
    page.wait_for_url(re.compile(r"/automations/\d+/$"))

    # the flow: email, wait 24 h, SMS consent condition with the SMS in its "yes" arm
    assert page.locator(".flow-step").evaluate_all("els => els.map(e => e.dataset.kind)") == [
        "email", "wait", "branch", "sms",
    ]  # fmt: skip
    page.get_by_test_id("step-cart_email").get_by_role("link", name="Envoyer un e-mail").click()
    panel = page.get_by_test_id("side-panel")
    assert (
        panel.get_by_label("Objet").input_value()
        == "Vous avez oublié quelque chose, {{ first_name }}"
    )
    assert (
        page.get_by_test_id("arm-cart_sms_consent-yes").get_by_test_id("step-cart_sms").is_visible()
    )

    # activate
    page.get_by_role("button", name="Activer").click()
    page.get_by_test_id("scenario-status").filter(has_text="Active").wait_for()
    scenario = Scenario.objects.get(account=account)
    assert scenario.status == "active" and scenario.exit_event == "order_placed"

    # the shop: a subscribed customer abandons a cart; the 3-hour delay passes
    shop = MagentoShop(customers=0, seed=3)
    simulator = MagentoSimulator(shop).start()
    try:
        connection = connection_create(
            account=account, name="Boutique", shop_url=simulator.url,
            credentials=SIMULATOR_CREDENTIALS,
        )  # fmt: skip
        jeanne = shop.add_customer(
            email="jeanne@exemple.fr", firstname="Jeanne", lastname="Lefèvre", is_subscribed=True,
            created_at=datetime(2025, 1, 2, 10, tzinfo=UTC),
        )  # fmt: skip
        shop.add_cart(
            customer_id=jeanne.id, lines=[("THE", "Thé vert", 2, 8.4)],
            updated_at=datetime.now(UTC) - timedelta(hours=3, minutes=10),
        )  # fmt: skip
        assert run_sync(connection).status == SyncRun.Status.SUCCEEDED
        assert run_sync(connection, kind=SyncRun.Kind.CARTS).status == SyncRun.Status.SUCCEEDED
    finally:
        simulator.stop()
    enrolment = Enrolment.objects.get(scenario=scenario)
    assert enrolment.context["cart"]["total"] == "16.8000"
    engine.drain()  # what the automation worker does on its next tick

    # the reminder is in the outbox
    kept = OutboxMessage.objects.get(account=account)
    assert kept.recipients == "jeanne@exemple.fr"
    # with the cart's content and the way back to it, from the shop's data
    assert "2 × Thé vert" in kept.html and "16.80" in kept.html
    assert f'href="{connection.shop_url.rstrip("/")}/checkout/cart/"' in kept.html
    page.goto("/email/outbox/")
    page.get_by_text("Vous avez oublié quelque chose, Jeanne").first.wait_for()

    # the editor shows the step's figures
    page.goto(f"/automations/{scenario.pk}/")
    page.get_by_test_id("step-cart_email").filter(has_text="envoyés : 1").wait_for()
