"""The block editor in headless Chromium: a marketer edits a gallery template end to end, and a
block hidden on mobile really disappears at 375 px and shows at 600 px."""

import io
import re

import pytest
from PIL import Image

from campaigns import rendering
from campaigns.editor.compiler import design_to_html
from campaigns.editor.design import design_normalise
from campaigns.models import OutboxMessage
from tests.factories import ContactFactory, EmailCampaignFactory, SenderAddressFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _watch_console(page) -> list[str]:
    """Script errors, and failed loads from this site. The gallery's pictures and icons are
    served by the platform; an image URL a marketer types (images.example.com in one test) or
    MJML's default social icons (mailjet.com) live on the internet, which the test machine does
    not reach: those failures are the machine's, not the editor's."""
    problems = []

    def console(message):
        url = message.location.get("url", "")
        offline = "Failed to load resource" in message.text and re.match(
            r"https://(images\.example\.com|www\.mailjet\.com)/", url
        )
        if message.type == "error" and not offline:
            problems.append(f"{message.text} {url}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 300), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_edit_a_gallery_template_end_to_end(
    logged_in_page, account, settings, tmp_path, live_server
):
    # given
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    settings.PUBLIC_BASE_URL = live_server.url  # where the uploaded images are served
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    campaign = EmailCampaignFactory(
        account=account, subject="Ventes privées", sender=SenderAddressFactory(account=account)
    )
    ContactFactory(account=account, email="zoe@example.com", first_name="Zoé")
    page = logged_in_page
    problems = _watch_console(page)

    # when: open the gallery's "commerce-promotion" in the editor from the campaign page
    page.goto(f"/email/{campaign.pk}/")
    page.get_by_test_id("block-editor-link").click()
    page.get_by_role("link", name="Promotion — Commerce").click()
    page.get_by_test_id("block-editor").wait_for()

    # change a text (inline), with a merge tag from the menu
    block_id = (
        page.get_by_test_id("text-editable")
        .filter(has_text="Parce que vous faites partie")
        .evaluate("node => node.closest('[data-block-id]').dataset.blockId")
    )
    greeting = page.locator(f'[data-block-id="{block_id}"] [data-testid=text-editable]')
    greeting.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Nos plus belles pièces vous attendent, ")
    page.get_by_test_id("merge-tag-menu").select_option("{{ first_name }}")
    greeting.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" !")

    # replace the hero image: upload, alt text
    hero = page.get_by_test_id("editor-block").filter(
        has=page.locator("img[alt='La nouvelle collection']")
    )
    hero.click()
    page.get_by_test_id("image-upload").set_input_files(
        {"name": "hero.png", "mimeType": "image/png", "buffer": _png("#2255aa")}
    )
    page.get_by_test_id("editor-status").filter(has_text="Image téléversée").wait_for()
    page.get_by_label("Texte alternatif (obligatoire)").fill("Notre vente privée")
    page.get_by_label("Texte alternatif (obligatoire)").press("Tab")

    # hide the button on mobile, with the block's own keyboard-reachable button
    button = page.get_by_test_id("editor-block").filter(has_text="J'en profite")
    button.click()
    button.get_by_role("button", name="Masquer sur mobile").click()
    assert (
        button.get_by_role("button", name="Masquer sur mobile").get_attribute("aria-pressed")
        == "true"
    )
    # undo and redo it
    page.get_by_role("button", name="Annuler").click()
    assert (
        button.get_by_role("button", name="Masquer sur mobile").get_attribute("aria-pressed")
        == "false"
    )
    page.get_by_role("button", name="Rétablir").click()
    assert (
        button.get_by_role("button", name="Masquer sur mobile").get_attribute("aria-pressed")
        == "true"
    )

    page.get_by_test_id("editor-save").click()
    page.get_by_test_id("editor-status").filter(has_text="Enregistré.").wait_for()

    # then: saved, compiled, and the same design when the editor is opened again
    campaign.refresh_from_db()
    blocks = [b for s in campaign.design["sections"] for c in s["columns"] for b in c["blocks"]]
    edited = next((b for b in blocks if "Nos plus belles pièces" in b.get("html", "")), None)
    assert edited is not None, [b.get("html") for b in blocks][:8]
    assert "{{ first_name }}" in edited["html"]
    image = next(b for b in blocks if b["type"] == "image" and b["alt"] == "Notre vente privée")
    assert re.fullmatch(
        r"http://[^/]+/email/editor/images/editor/\d+/[0-9a-f]{32}\.png", image["src"]
    )
    assert next(b for b in blocks if b["type"] == "button")["hide_on_mobile"] is True
    start = campaign.html.find("Nos plus")
    assert "Nos plus belles pièces vous attendent" in campaign.html, (
        edited["html"],
        campaign.html[start - 200 : start + 300] if start >= 0 else "(not in the HTML)",
    )
    page.reload()
    page.get_by_test_id("block-editor").wait_for()
    reopened = page.get_by_test_id("editor-block").filter(has_text="J'en profite")
    assert (
        reopened.get_by_role("button", name="Masquer sur mobile").get_attribute("aria-pressed")
        == "true"
    )
    assert (
        page.get_by_test_id("text-editable").filter(has_text="Nos plus belles pièces").count() == 1
    )

    # preview as a contact: the button shows at 600 px, not at 375 px
    page.get_by_test_id("editor-preview-contact").select_option(label="zoe@example.com")
    page.get_by_test_id("editor-preview").click()
    page.get_by_test_id("editor-status").filter(has_text="Aperçu mis à jour").wait_for()
    desktop = page.frame_locator("#editor-preview-desktop")
    mobile = page.frame_locator("#editor-preview-mobile")
    desktop.get_by_text("Nos plus belles pièces vous attendent, Zoé").wait_for()
    assert desktop.get_by_role("link", name="J'en profite").is_visible()
    assert not mobile.get_by_role("link", name="J'en profite").is_visible()
    assert mobile.get_by_text("Nos plus belles pièces vous attendent, Zoé").is_visible()

    # a test to the outbox
    page.get_by_test_id("editor-test-recipients").fill("moi@example.com")
    page.get_by_test_id("editor-send-test").click()
    page.get_by_test_id("editor-status").filter(has_text="1 e-mails de test envoyés").wait_for()
    kept = OutboxMessage.objects.get(account=account)
    assert kept.subject == "[TEST] Ventes privées"
    assert "Nos plus belles pièces vous attendent" in kept.html
    assert image["src"] in kept.html
    assert 'class="se-hide-mobile"' in kept.html
    assert problems == [], problems


def test_keyboard_only_editing_and_drag_and_drop(logged_in_page, account):
    campaign = EmailCampaignFactory(account=account)
    page = logged_in_page
    problems = _watch_console(page)
    page.goto(f"/email/{campaign.pk}/editor/?start=blank")
    page.get_by_test_id("block-editor").wait_for()
    first_text = page.get_by_test_id("editor-block").first

    # keyboard: focus a block, Enter selects it, a palette button adds a divider after it
    first_text.focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("add-divider").focus()
    page.keyboard.press("Enter")
    types = lambda: page.locator("[data-testid=editor-block]").evaluate_all(  # noqa: E731
        "nodes => nodes.map(n => n.dataset.type)"
    )
    assert types() == ["text", "divider", "text", "button", "text"]
    page.get_by_test_id("editor-block").nth(1).get_by_role("button", name="Monter le bloc").press(
        "Enter"
    )
    assert types() == ["divider", "text", "text", "button", "text"]
    page.get_by_test_id("editor-block").nth(0).get_by_role(
        "button", name="Dupliquer le bloc"
    ).press("Enter")
    assert types() == ["divider", "divider", "text", "text", "button", "text"]
    page.get_by_test_id("editor-block").nth(0).get_by_role("button", name="Supprimer").press(
        "Enter"
    )
    assert types() == ["divider", "text", "text", "button", "text"]
    page.keyboard.press("Control+z")
    assert types() == ["divider", "divider", "text", "text", "button", "text"]

    # drag and drop: a spacer from the palette into the footer section
    footer = page.get_by_test_id("editor-section").nth(1).get_by_test_id("editor-block")
    footer.scroll_into_view_if_needed()
    source = page.get_by_test_id("add-spacer").bounding_box()
    target = footer.bounding_box()
    page.mouse.move(source["x"] + 20, source["y"] + 10)
    page.mouse.down()
    page.mouse.move(source["x"] + 60, source["y"] + 30, steps=5)  # past Sortable's tolerance
    page.mouse.move(target["x"] + 40, target["y"] + target["height"] - 5, steps=15)
    page.mouse.up()
    assert types()[-2:] in (["spacer", "text"], ["text", "spacer"])

    # the footer section in two columns; the message in bold and red, from the text toolbar
    page.get_by_role("button", name=re.compile(r"^Section 2 ")).click()
    page.get_by_test_id("prop-columns").select_option("2")
    assert page.get_by_test_id("editor-section").nth(1).locator(".column").count() == 2
    message = page.get_by_test_id("text-editable").nth(1)
    message.click()
    page.keyboard.press("Control+A")
    page.get_by_role("button", name="Gras").click()
    page.locator(".text-toolbar input[type=color]").fill("#cc0000")
    page.get_by_test_id("editor-save").click()
    page.get_by_test_id("editor-status").filter(has_text="Enregistré.").wait_for()
    campaign.refresh_from_db()
    footer_columns = campaign.design["sections"][1]["columns"]
    assert len(footer_columns) == 2
    assert [b["type"] for c in footer_columns for b in c["blocks"]].count("spacer") == 1
    message_html = next(
        b["html"]
        for s in campaign.design["sections"]
        for c in s["columns"]
        for b in c["blocks"]
        if "first_name" in b.get("html", "")
    )
    assert '<b style="color:rgb(204, 0, 0)">Bonjour {{ first_name }},</b>' in message_html

    # the footer kept for reuse, then inserted again from the palette
    page.get_by_role("button", name=re.compile(r"^Section 2 ")).click()
    page.get_by_test_id("saved-section-name").fill("Pied de page")
    page.get_by_test_id("save-section-for-reuse").click()
    page.get_by_test_id("editor-status").filter(
        has_text="Bloc enregistré : Pied de page."
    ).wait_for()
    page.get_by_test_id("insert-saved-section").filter(has_text="Pied de page").click()
    assert page.get_by_test_id("editor-section").count() == 3
    assert account.saved_sections.get().name == "Pied de page"
    assert problems == [], problems

    # a mistake is named and its block selected: an image without alternative text (the
    # browser logs the 400 answer; nothing else may appear)
    page.get_by_test_id("add-image").click()
    page.get_by_label("Adresse de l'image").fill("https://images.example.com/a.png")
    page.get_by_label("Adresse de l'image").press("Tab")
    page.get_by_test_id("editor-save").click()
    page.get_by_test_id("editor-status").filter(has_text="Texte alternatif").wait_for()
    assert page.locator(".block.has-error[data-type=image]").count() == 1
    assert len(problems) == 1 and "400" in problems[0] and "/editor/save/" in problems[0]


@pytest.mark.parametrize(("width", "shown"), [(600, True), (375, False)])
def test_a_block_hidden_on_mobile_disappears_at_375_px(browser, width, shown):
    """The compiled, inlined email as a mail client at each width would draw it: the red
    button, hidden on mobile, has red pixels at 600 px and none at 375 px."""
    design = design_normalise(
        {
            "sections": [
                {
                    "columns": [
                        {
                            "blocks": [
                                {"type": "text", "html": "<p>Toujours là</p>"},
                                {
                                    "type": "button",
                                    "label": "Desktop only",
                                    "href": "https://example.com",
                                    "background_color": "#ff0000",
                                    "hide_on_mobile": True,
                                },
                                {"type": "text", "html": '<a href="{{ unsubscribe_url }}">x</a>'},
                            ]
                        }
                    ]
                },
                {
                    "hide_on_desktop": True,
                    "background_color": "#00ff00",
                    "columns": [{"blocks": [{"type": "spacer", "height": 60}]}],
                },
            ]
        }
    )
    html = rendering.inline_css(design_to_html(design))
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_content(html)
    screenshot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    context.close()

    colours = screenshot.getcolors(maxcolors=1_000_000)
    red = sum(count for count, rgb in colours if rgb[0] > 240 and rgb[1] < 20 and rgb[2] < 20)
    green = sum(count for count, rgb in colours if rgb[1] > 240 and rgb[0] < 20 and rgb[2] < 20)
    assert (red > 1000) is shown
    assert (green > 1000) is not shown


def test_a_merge_tag_goes_where_the_caret_is_even_before_selectionchange(logged_in_page, account):
    """The browser queues "selectionchange"; under load it may run after the merge-tag menu's
    change. Typing and picking the tag in one task reproduces that order every time."""
    campaign = EmailCampaignFactory(account=account)
    page = logged_in_page
    page.goto(f"/email/{campaign.pk}/editor/?start=blank")
    page.get_by_test_id("block-editor").wait_for()
    text = page.get_by_test_id("text-editable").first
    text.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Bonjour")
    page.get_by_test_id("merge-tag-menu").wait_for()
    # when: more text typed and the tag picked at once, no task in between
    html = text.evaluate(
        """(editable) => {
            document.execCommand("insertText", false, " et bienvenue, ");
            const menu = document.querySelector("[data-testid=merge-tag-menu]");
            menu.value = "{{ first_name }}";
            menu.dispatchEvent(new Event("change"));
            return editable.textContent;
        }"""
    )
    # then the tag follows the last word typed
    assert html == "Bonjour et bienvenue, {{ first_name }}"
