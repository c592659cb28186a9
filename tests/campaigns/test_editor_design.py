"""The block editor's design: schema, sanitising, compiling, importing, saving."""

import copy
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.errors import ServiceError
from campaigns import rendering
from campaigns.editor import selectors
from campaigns.editor.compiler import design_to_html, design_to_mjml
from campaigns.editor.design import DesignInvalid, design_normalise
from campaigns.editor.importer import design_from_html, design_from_mjml
from campaigns.editor.services import (
    campaign_design_save,
    image_upload,
    template_design_save,
)
from campaigns.editor.starters import blank_design
from campaigns.gallery import gallery, template_source
from campaigns.models import EmailTemplate
from contacts.models import ContactField
from tests.factories import AccountFactory, EmailCampaignFactory


def _one_block(block: dict, **section) -> dict:
    return {"sections": [{**section, "columns": [{"blocks": [block]}]}]}


def test_a_bad_design_is_refused_with_the_path_of_each_mistake():
    design = {
        "styles": {"width": 2000, "font_family": "Comic Sans"},
        "sections": [
            {"columns": [{"blocks": [{"type": "text", "html": "ok"}]}]},
            {
                "columns": [
                    {"blocks": []},
                    {"blocks": [{"type": "image", "src": "ftp://x/y.png"}, {"type": "video"}]},
                ]
            },
            {"columns": [{}, {}, {}, {}, {}]},
        ],
    }

    with pytest.raises(DesignInvalid) as caught:
        design_normalise(design)

    assert set(caught.value.fields) == {
        "styles.width",
        "styles.font_family",
        "sections[1].columns[1].blocks[0].src",
        "sections[1].columns[1].blocks[0].alt",
        "sections[1].columns[1].blocks[1].type",
        "sections[2].columns",
    }


def test_unknown_fields_wrong_types_and_unsafe_links_are_refused():
    bad = [
        ({"type": "button", "label": "Go", "href": "javascript:alert(1)"}, "href"),
        ({"type": "button", "label": "Go", "href": 'https://x.com/"onmouseover="x'}, "href"),
        ({"type": "spacer", "height": "20"}, "height"),
        ({"type": "button", "label": "Go\x00", "href": "https://x.fr"}, "label"),
        ({"type": "text", "html": "<p>\x00</p>"}, "html"),
        ({"type": "spacer", "height": True}, "height"),
        ({"type": "text", "html": "x", "onclick": "y"}, "onclick"),
        ({"type": "text", "html": "x", "color": "red; background:url(x)"}, "color"),
        ({"type": "html", "html": "</mj-raw><mj-include path='/etc/passwd'/>"}, "html"),
        (
            {"type": "social", "items": [{"network": "myspace", "href": "https://x"}]},
            "items[0].network",
        ),
    ]
    for block, field in bad:
        with pytest.raises(DesignInvalid) as caught:
            design_normalise(_one_block(block))
        assert f"sections[0].columns[0].blocks[0].{field}" in caught.value.fields, block


def test_rich_text_is_sanitised_and_merge_tags_survive():
    design = design_normalise(
        _one_block(
            {
                "type": "text",
                "html": '<p onclick="x()">Bonjour {{ first_name | default:"cher client" }}'
                "<script>alert(1)</script><img src=x onerror=alert(1)>"
                '<a href="javascript:alert(1)">a</a> <a href="{{ unsubscribe_url }}" '
                'style="color:#f00;position:fixed">b</a><strong>c</strong></p>',
            }
        )
    )

    html = design["sections"][0]["columns"][0]["blocks"][0]["html"]
    assert html == (
        '<p>Bonjour {{ first_name | default:"cher client" }}<a>a</a> '
        '<a href="{{ unsubscribe_url }}" style="color:#f00">b</a><strong>c</strong></p>'
    )


def test_normalising_fills_defaults_keeps_ids_and_is_idempotent():
    design = design_normalise(_one_block({"id": "hero", "type": "spacer"}))

    assert design["sections"][0]["columns"][0]["blocks"][0] == {
        "id": "hero",
        "type": "spacer",
        "height": 20,
        "hide_on_mobile": False,
        "hide_on_desktop": False,
    }
    assert design_normalise(copy.deepcopy(design)) == design


def test_hidden_blocks_and_sections_get_the_media_query_classes():
    design = design_normalise(
        {
            "sections": [
                {
                    "hide_on_desktop": True,
                    "columns": [{"blocks": [{"type": "text", "html": "<p>mobile only</p>"}]}],
                },
                {
                    "columns": [
                        {"blocks": [{"type": "text", "html": "<p>x</p>", "hide_on_mobile": True}]},
                        {
                            "blocks": [
                                {"type": "html", "html": "<b>raw</b>", "hide_on_mobile": True}
                            ]
                        },
                    ]
                },
            ]
        }
    )

    html = design_to_html(design)

    assert re.search(r'<div[^>]*class="se-hide-desktop se-mso-hide"', html)
    assert re.search(r'<td[^>]*class="se-hide-mobile"', html)
    assert '<div class="se-hide-mobile"><b>raw</b></div>' in html
    assert "@media only screen and (max-width: 480px)" in html
    assert "@media only screen and (min-width: 481px)" in html
    # Inlining at send keeps the media queries and inlines Outlook's mso-hide.
    inlined = rendering.inline_css(html)
    assert "max-width: 480px" in inlined
    assert "mso-hide:all" in inlined.replace(" ", "")


def test_global_styles_reach_the_mjml():
    design = blank_design()
    design["styles"].update(
        font_family="Georgia, 'Times New Roman', Times, serif",
        background_color="#102030",
        width=640,
    )

    mjml = design_to_mjml(design_normalise(design))

    assert '<mj-all font-family="Georgia, &#x27;Times New Roman&#x27;, Times, serif" />' in mjml
    assert '<mj-body background-color="#102030" width="640px">' in mjml


@pytest.mark.parametrize("slug", [template.slug for template in gallery()])
def test_every_gallery_template_opens_in_the_editor_and_compiles(slug):
    design = design_from_mjml(template_source(slug))

    html = design_to_html(design)

    assert design_normalise(copy.deepcopy(design)) == design
    assert "{{ unsubscribe_url }}" in html
    blocks = [b for s in design["sections"] for c in s["columns"] for b in c["blocks"]]
    assert sum(b["type"] == "text" for b in blocks) >= 10
    assert any(b["type"] == "button" for b in blocks)


def test_a_gallery_template_keeps_its_texts_links_and_hidden_sections():
    design = design_from_mjml(template_source("commerce-promotion"))

    sections = design["sections"]
    assert sections[0]["hide_on_mobile"] is True  # "Voir la version en ligne"
    assert any(s["hide_on_desktop"] for s in sections)
    blocks = [b for s in sections for c in s["columns"] for b in c["blocks"]]
    button = next(b for b in blocks if b["type"] == "button")
    assert button["label"] == "J'en profite"
    assert button["href"] == "https://shop.example.com/ventes-privees?ref={{ contact_ref }}"
    assert button["background_color"] == "#ff5a4e"  # from mj-attributes
    assert any("-30" in b.get("html", "") for b in blocks)
    assert max(len(s["columns"]) for s in sections) == 3


def test_an_html_template_opens_as_one_raw_block():
    design = design_from_html("<html><head></head><body><p>Hi</p></body></html>")

    assert design["sections"][0]["columns"][0]["blocks"][0]["html"] == "<p>Hi</p>"


@pytest.mark.django_db
def test_saving_a_design_into_a_campaign_compiles_it_and_round_trips():
    # given
    campaign = EmailCampaignFactory()
    design = design_from_mjml(template_source("feminin-newsletter"))

    # when
    saved = campaign_design_save(campaign=campaign, design=design)

    # then
    campaign.refresh_from_db()
    assert campaign.design == design == saved.design
    assert campaign.html == saved.html
    assert "{{ unsubscribe_url }}" in campaign.html
    assert saved.warnings == []
    reopened, changed_elsewhere = selectors.campaign_design(campaign)
    assert reopened == design and changed_elsewhere is False


@pytest.mark.django_db
def test_a_campaign_edited_as_html_afterwards_is_flagged_in_the_editor():
    campaign = EmailCampaignFactory()
    campaign_design_save(campaign=campaign, design=blank_design())
    campaign.html += "<p>hand edit</p>"
    campaign.save()

    _design, changed_elsewhere = selectors.campaign_design(campaign)

    assert changed_elsewhere is True


@pytest.mark.django_db
def test_unknown_merge_tags_are_refused_with_the_block_path():
    # given
    account = AccountFactory()
    ContactField.objects.create(account=account, key="points", label="Points", type="number")
    campaign = EmailCampaignFactory(account=account)
    design = _one_block({"type": "text", "html": "<p>{{ fields.points }} {{ fields.nope }}</p>"})

    # when
    with pytest.raises(DesignInvalid) as caught:
        campaign_design_save(campaign=campaign, design=design)

    # then
    assert list(caught.value.fields) == ["sections[0].columns[0].blocks[0]"]
    assert "fields.nope" in caught.value.message
    campaign.refresh_from_db()
    assert campaign.design is None and campaign.html == ""


@pytest.mark.django_db
def test_a_design_without_unsubscribe_link_saves_with_a_warning():
    campaign = EmailCampaignFactory()

    saved = campaign_design_save(
        campaign=campaign, design=_one_block({"type": "text", "html": "x"})
    )

    assert len(saved.warnings) == 1


@pytest.mark.django_db
def test_saving_a_template_from_the_editor_stores_mjml_and_round_trips():
    account = AccountFactory()
    design = design_from_mjml(template_source("b2b-invitation"))

    template, saved = template_design_save(account=account, name="Invitation", design=design)

    template.refresh_from_db()
    assert template.kind == EmailTemplate.Kind.MJML
    assert template.source.startswith("<mjml")
    assert template.html == saved.html
    assert selectors.template_design(template) == design
    assert selectors.design_from_start(account, f"template:{template.pk}") == design
    with pytest.raises(EmailTemplate.DoesNotExist):
        selectors.design_from_start(AccountFactory(), f"template:{template.pk}")


def _image_file(size=(2400, 1200), fmt="PNG", name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.mark.django_db
def test_an_uploaded_image_is_resized_and_served(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    account = AccountFactory()

    url = image_upload(account=account, upload=_image_file())

    name = url.split("/editor/images/", 1)[1]
    assert name.startswith(f"editor/{account.pk}/") and name.endswith(".png")
    with default_storage.open(name) as stored:
        assert Image.open(stored).size == (1200, 600)
    response = client.get(url.removeprefix(settings.PUBLIC_BASE_URL))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


@pytest.mark.django_db
def test_an_upload_that_is_not_an_image_or_too_large_is_refused(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    account = AccountFactory()
    fake = SimpleUploadedFile("x.png", b"<svg onload=alert(1)></svg>")
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, "PNG")  # 64 Mpx in a few kB: refused unread
    assert len(bomb.getvalue()) < 100_000
    huge = SimpleUploadedFile("x.png", b"\0" * (5 * 1024 * 1024 + 1))

    uploads = (
        (fake, "image_type"),
        (huge, "image_too_large"),
        (SimpleUploadedFile("b.png", bomb.getvalue()), "image_type"),
    )
    for upload, code in uploads:
        with pytest.raises(ServiceError) as caught:
            image_upload(account=account, upload=upload)
        assert caught.value.code == code
    assert list(tmp_path.iterdir()) == []
