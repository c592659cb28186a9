"""Every main page is usable on a phone (390×844): nothing is wider than the screen, the menu
collapses behind a button that opens it (by mouse and keyboard) and reaches every section, the
account menu, logout and the language switch; the desktop layout keeps one header row from 1280 px (1366 px tested)."""

import os
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Message, OutboxMessage
from connectors.credentials import ShopCredentials
from connectors.services import connection_create
from tests.factories import (
    CampaignLinkFactory,
    ContactFactory,
    ContactListFactory,
    EmailCampaignFactory,
    EmailTemplateFactory,
    ListMembershipFactory,
    SegmentFactory,
    SenderAddressFactory,
    make_api_key,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
SENT_AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def base(account):
    """A little of everything, with the long names real bases have."""
    account.name = "Boutique Lumière — Lyon Presqu'île"
    account.postal_address = "Boutique Lumière, 12 rue des Lilas, 69001 Lyon"
    account.save()
    sender = SenderAddressFactory(
        account=account, email="newsletter.printemps@boutique-lumiere.example", name="Lumière"
    )
    clients = ContactListFactory(account=account, name="Clients fidèles de la boutique de Lyon")
    for index in range(12):
        ListMembershipFactory(
            contact_list=clients,
            contact__email=f"marie-christine.de-la-fontaine.{index}@une-adresse-tres-longue.example",
            contact__first_name="Marie-Christine",
            contact__last_name="de La Fontaine",
            contact__mobile="+33612345678",
            contact__email_status="subscribed",
        )
    SegmentFactory(
        account=account,
        name="Lyonnaises abonnées",
        rules={"all": [{"field": "city", "op": "eq", "value": "Lyon"}]},
    )
    EmailTemplateFactory(account=account, name="Ma lettre du mois")
    campaign = EmailCampaignFactory(
        account=account, name="Soldes de printemps : jusqu'à -50 % sur toute la collection",
        subject="Les soldes commencent", sender=sender, status="finished",
        started_at=SENT_AT, finished_at=SENT_AT + timedelta(minutes=20),
        html="<p>Bonjour</p>",
    )  # fmt: skip
    draft = EmailCampaignFactory(
        account=account, name="Nouveautés de la semaine", subject="{{ first_name }}, nos nouveautés",
        sender=sender, html="<table width='600'><tr><td>Bonjour {{ first_name }}</td></tr></table>",
        lists=[clients],
    )  # fmt: skip
    contact = ContactFactory(account=account, email="zoe@example.com")
    Message.objects.create(
        campaign=campaign, contact=contact, email=contact.email, status="sent", sent_at=SENT_AT
    )
    CampaignLinkFactory(
        campaign=campaign,
        url="https://boutique-lumiere.example/collections/printemps-ete-2025?utm_source=newsletter&utm_medium=email&utm_campaign=soldes-de-printemps",
    )
    OutboxMessage.objects.create(
        account=account, sender="Lumière <newsletter.printemps@boutique-lumiere.example>",
        recipients="marie-christine.de-la-fontaine.0@une-adresse-tres-longue.example",
        subject="Les soldes commencent", html="<table width='600'><tr><td>Bonjour</td></tr></table>",
        text="Bonjour", raw="Subject: Les soldes commencent\n\nBonjour",
    )  # fmt: skip
    make_api_key(account, name="Intégration boutique en ligne (production)")
    connection = connection_create(
        account=account, name="Boutique Lumière (Magento, vue magasin France)",
        shop_url="https://boutique-lumiere.example", auth_method="bearer",
        credentials=ShopCredentials(access_token="jeton"),  # noqa: S106
    )  # fmt: skip
    return {"campaign": campaign, "draft": draft, "contact": contact, "connection": connection}


def main_pages(base):
    campaign = base["campaign"]
    return {
        "dashboard": "/",
        "contacts": "/contacts/",
        "contact form": "/contacts/new/",
        "lists": "/contacts/lists/",
        "segments": "/contacts/segments/",
        "segment builder": "/contacts/segments/new/",
        "fields": "/contacts/fields/",
        "import upload": "/contacts/imports/",
        "campaigns": "/email/",
        "campaign editor": f"/email/{base['draft'].pk}/",
        "contact": f"/contacts/{base['contact'].pk}/",
        "gallery": "/email/new/",
        "outbox": f"/email/outbox/{OutboxMessage.objects.get().pk}/",
        "report": f"/stats/campaigns/{campaign.pk}/",
        "statistics": "/stats/",
        "api keys": "/api-keys/",
        "settings": "/account/settings/",
        "senders": "/email/senders/",
        "block editor": f"/email/{base['draft'].pk}/editor/",
        "sms campaigns": "/sms/",
        "sms editor": "/sms/new/",
        "sms outbox": "/sms/outbox/",
        "connectors": "/connectors/",
        "connector form": "/connectors/new/",
        "connector": f"/connectors/{base['connection'].pk}/",
    }


def overflow(page):
    """How many CSS pixels the page is wider than the screen, and the widest culprit."""
    return page.evaluate(
        """() => {
            const excess = document.documentElement.scrollWidth - window.innerWidth;
            let culprit = "";
            const clipped = (element) => {
                for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
                    if (getComputedStyle(parent).overflowX !== "visible") return true;
                }
                return false;
            };
            if (excess > 0) {
                for (const element of document.querySelectorAll("body *")) {
                    const box = element.getBoundingClientRect();
                    if (box.right > window.innerWidth + 1 && !clipped(element)) {
                        culprit = element.tagName + "." + element.className + " right=" + Math.round(box.right);
                        break;
                    }
                }
            }
            return [excess, culprit];
        }"""
    )


def test_every_main_page_fits_a_phone(logged_in_page, base):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    too_wide = {}
    for name, url in main_pages(base).items():
        response = page.goto(url)
        assert response.status == 200, f"{name}: {response.status}"
        page.wait_for_load_state("networkidle")
        excess, culprit = overflow(page)
        if os.environ.get("SCREENSHOTS_DIR"):  # for a human look: SCREENSHOTS_DIR=/tmp/shots
            page.screenshot(
                path=f"{os.environ['SCREENSHOTS_DIR']}/phone-{name}.png", full_page=True
            )
        if excess > 0:
            too_wide[name] = f"{excess}px too wide ({culprit})"
    assert too_wide == {}


def test_phone_filters_have_visible_labels(logged_in_page, base):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    page.goto("/contacts/")
    for label in ["Rechercher", "Consentement e-mail", "Liste", "Segment"]:
        field = page.locator("main form[role=search]").get_by_label(label, exact=True)
        assert field.is_visible()
        assert field.bounding_box()["width"] > 250  # a real field, not a squeezed "-" box
    page.locator("main").get_by_label("Liste", exact=True).select_option(
        label="Clients fidèles de la boutique de Lyon"
    )
    page.get_by_text("12 contacts").wait_for()


def test_phone_menu_opens_and_reaches_everything(logged_in_page, base, live_server):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    page.goto("/contacts/")
    menu = page.get_by_role("button", name="Menu")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="Statistiques").is_visible()

    # by keyboard: the button is reachable with Tab, opens with Enter, closes with Escape
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    for section in ["Contacts", "Segments", "E-mailing", "Statistiques", "API"]:
        link = page.get_by_role("navigation", name="Navigation principale").get_by_role(
            "link", name=section, exact=True
        )
        assert link.is_visible(), section
        assert link.bounding_box()["x"] + link.bounding_box()["width"] <= PHONE["width"]
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "site-menu"

    # by touch: open it, go to a section
    menu.click()
    page.get_by_role("link", name="Statistiques").click()
    page.wait_for_url(f"{live_server.url}/stats/")

    # the language switch, then the account menu down to logout
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Statistics").wait_for()
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Français").click()
    page.get_by_role("heading", name="Statistiques").wait_for()
    page.get_by_role("button", name="Menu").click()
    page.get_by_text(base["campaign"].account.name).click()
    logout = page.get_by_role("button", name="Déconnexion")
    assert logout.bounding_box()["x"] >= 0
    logout.click()
    page.wait_for_url(f"{live_server.url}/login/**")


def test_menu_works_without_javascript(browser, live_server, owner, base):
    from tests.conftest import PASSWORD

    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", java_script_enabled=False, viewport=PHONE
    )
    page = context.new_page()
    try:
        page.goto("/login/")
        page.locator("main").get_by_label("Adresse e-mail").fill(owner.email)
        page.locator("main").get_by_label("Mot de passe").fill(PASSWORD)
        page.locator("main").get_by_role("button", name="Connexion").click()
        page.wait_for_url(f"{live_server.url}/")
        # no script to open it: the links are simply there, stacked, within the screen
        link = page.get_by_role("navigation", name="Navigation principale").get_by_role(
            "link", name="Statistiques"
        )
        assert link.is_visible()
        assert overflow(page)[0] <= 0
    finally:
        context.close()


def test_desktop_header_stays_on_one_row(logged_in_page, base):
    page = logged_in_page
    page.set_viewport_size(DESKTOP)
    page.goto("/contacts/")
    assert not page.get_by_role("button", name="Menu").is_visible()
    header = page.locator("header")
    middles = [
        box["y"] + box["height"] / 2
        for box in (
            header.get_by_role("link", name="Sendethic").bounding_box(),
            header.get_by_role("link", name="Statistiques").bounding_box(),
            header.get_by_role("button", name="English").bounding_box(),
        )
    ]
    assert max(middles) - min(middles) < 12, middles
    for width in (1280, 1024, 800):  # the narrowest one-row header, then the menu button
        page.set_viewport_size({"width": width, "height": 768})
        assert overflow(page)[0] <= 0, width
    if os.environ.get("SCREENSHOTS_DIR"):
        page.screenshot(path=f"{os.environ['SCREENSHOTS_DIR']}/desktop-contacts.png")
    assert overflow(page)[0] <= 0


def test_the_demo_base_fits_a_phone(logged_in_page, account, settings):
    """The pages with the most in them, filled the way `make run`'s demo fills them."""
    from sendethic.demo_base import seed_demo_base
    from stats.models import EmailEvent

    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    campaign = seed_demo_base(account).campaign
    clicker = EmailEvent.objects.filter(campaign=campaign, kind="click").first().contact
    page = logged_in_page
    page.set_viewport_size(PHONE)
    too_wide = {}
    for url in [
        "/",
        f"/stats/campaigns/{campaign.pk}/",
        f"/contacts/{clicker.pk}/",
        "/contacts/",
        "/contacts/lists/",
        "/contacts/segments/",
        f"/email/outbox/{OutboxMessage.objects.filter(account=account).first().pk}/",
        "/email/",
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        excess, culprit = overflow(page)
        if excess > 0:
            too_wide[url] = f"{excess}px too wide ({culprit})"
    assert too_wide == {}
