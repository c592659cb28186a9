"""The block editor's pages and JSON calls, through Django's test client."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaigns.editor.starters import blank_design
from campaigns.models import EmailTemplate, OutboxMessage
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EmailCampaignFactory,
    EmailTemplateFactory,
    SenderAddressFactory,
)

pytestmark = pytest.mark.django_db


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_a_campaign_without_design_offers_where_to_start(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account)
    EmailTemplateFactory(account=account, name="Maison")

    response = logged_in_client.get(f"/email/{campaign.pk}/editor/")

    assert response.templates[0].name == "campaigns/editor_start.html"
    page = response.content.decode()
    assert "?start=gallery:commerce-promotion" in page
    assert "Maison" in page


def test_opening_a_gallery_template_in_the_editor(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account)

    response = logged_in_client.get(
        f"/email/{campaign.pk}/editor/?start=gallery:commerce-promotion"
    )

    assert response.status_code == 200
    config = response.context["config"]
    assert config["kind"] == "campaign"
    assert len(config["design"]["sections"]) == 9
    assert {"tag": "{{ first_name }}", "label": "Prénom"} in config["mergeTags"]
    assert 'id="editor-config"' in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/email/{campaign}/editor/",
        "/email/{campaign}/editor/?start=blank",
        "/email/templates/{template}/editor/",
    ],
)
def test_another_accounts_campaign_or_template_is_404(logged_in_client, url):
    other = AccountFactory()
    campaign = EmailCampaignFactory(account=other)
    template = EmailTemplateFactory(account=other)

    response = logged_in_client.get(url.format(campaign=campaign.pk, template=template.pk))

    assert response.status_code == 404


def test_another_accounts_objects_cannot_be_saved_or_started_from(logged_in_client, account):
    other = AccountFactory()
    theirs = EmailCampaignFactory(account=other)
    their_template = EmailTemplateFactory(account=other)
    mine = EmailCampaignFactory(account=account)

    saved = post_json(
        logged_in_client, f"/email/{theirs.pk}/editor/save/", {"design": blank_design()}
    )
    tested = post_json(
        logged_in_client, f"/email/{theirs.pk}/editor/send-test/", {"recipients": ["a@b.fr"]}
    )
    started = logged_in_client.get(f"/email/{mine.pk}/editor/?start=template:{their_template.pk}")
    template_saved = post_json(
        logged_in_client,
        f"/email/templates/{their_template.pk}/editor/save/",
        {"design": blank_design(), "name": "x"},
    )

    assert [saved.status_code, tested.status_code, started.status_code] == [404, 404, 404]
    assert template_saved.status_code == 404
    theirs.refresh_from_db()
    assert theirs.design is None


def test_save_then_reopen_shows_the_same_design(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account)
    design = logged_in_client.get(
        f"/email/{campaign.pk}/editor/?start=gallery:feminin-newsletter"
    ).context["config"]["design"]
    design["sections"][1]["columns"][0]["blocks"][0]["hide_on_mobile"] = True

    response = post_json(logged_in_client, f"/email/{campaign.pk}/editor/save/", {"design": design})

    assert response.status_code == 200 and response.json() == {"saved": True, "warnings": []}
    reopened = logged_in_client.get(f"/email/{campaign.pk}/editor/")
    assert reopened.context["config"]["design"] == design
    assert reopened.context["changed_elsewhere"] is False
    campaign.refresh_from_db()
    assert "se-hide-mobile" in campaign.html


def test_a_bad_design_is_a_400_naming_the_path(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account)
    design = blank_design()
    design["sections"][1]["columns"][0]["blocks"].append(
        {"type": "image", "src": "https://x.fr/a.png", "alt": ""}
    )

    response = post_json(logged_in_client, f"/email/{campaign.pk}/editor/save/", {"design": design})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_design"
    assert list(body["fields"]) == ["sections[1].columns[0].blocks[1].alt"]


def test_garbage_bodies_are_400_not_500(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account)
    url = f"/email/{campaign.pk}/editor/save/"

    for body in ("{", "[]", '{"design": 3}', '{"design": {"sections": "x"}}'):
        response = logged_in_client.post(url, body, content_type="application/json")
        assert response.status_code == 400, body


def test_a_sent_campaign_cannot_be_saved_from_the_editor(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account, status="finished")

    response = post_json(
        logged_in_client, f"/email/{campaign.pk}/editor/save/", {"design": blank_design()}
    )

    assert response.status_code == 409
    assert logged_in_client.get(f"/email/{campaign.pk}/editor/").status_code == 302


def test_preview_is_the_email_as_a_contact_sees_it(logged_in_client, account):
    contact = ContactFactory(account=account, first_name="Zoé")

    response = post_json(
        logged_in_client,
        "/email/editor/preview/",
        {"design": blank_design(), "contact": contact.pk},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")  # shown through srcdoc only
    html = response.content.decode()
    assert "Zoé" in html and "{{" not in html
    other = ContactFactory(account=AccountFactory())
    assert (
        post_json(
            logged_in_client,
            "/email/editor/preview/",
            {"design": blank_design(), "contact": other.pk},
        ).status_code
        == 404
    )


def test_a_test_send_reaches_the_outbox(logged_in_client, account, settings):
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    campaign = EmailCampaignFactory(
        account=account, sender=SenderAddressFactory(account=account), subject="Soldes"
    )
    post_json(logged_in_client, f"/email/{campaign.pk}/editor/save/", {"design": blank_design()})

    response = post_json(
        logged_in_client,
        f"/email/{campaign.pk}/editor/send-test/",
        {"recipients": ["test@example.com"]},
    )
    refused = post_json(
        logged_in_client, f"/email/{campaign.pk}/editor/send-test/", {"recipients": ["nope"]}
    )

    assert response.json() == {"sent": 1}
    kept = OutboxMessage.objects.get(account=account)
    assert kept.subject == "[TEST] Soldes" and "se-hide" in kept.html
    assert refused.status_code == 400 and "recipients" in refused.json()["fields"]


def test_a_template_is_created_then_updated_from_the_editor(logged_in_client, account):
    page = logged_in_client.get("/email/templates/editor/?start=gallery:b2b-invitation")
    design = page.context["config"]["design"]

    created = post_json(
        logged_in_client, "/email/templates/editor/save/", {"design": design, "name": "Matinale"}
    )
    template = EmailTemplate.objects.get(account=account)
    updated = post_json(
        logged_in_client, created.json()["saveUrl"], {"design": design, "name": "Matinale 2"}
    )
    unnamed = post_json(
        logged_in_client, created.json()["saveUrl"], {"design": design, "name": " "}
    )

    assert created.status_code == 200 and updated.status_code == 200
    assert unnamed.status_code == 400 and "name" in unnamed.json()["fields"]
    template.refresh_from_db()
    assert template.name == "Matinale 2" and template.kind == "mjml"
    assert (
        logged_in_client.get(f"/email/templates/{template.pk}/editor/").context["config"]["design"]
        == design
    )


def test_image_upload_through_the_page(logged_in_client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    buffer = io.BytesIO()
    Image.new("RGB", (50, 40), "#ff0000").save(buffer, "JPEG")

    ok = logged_in_client.post(
        "/email/editor/images/", {"image": SimpleUploadedFile("a.jpg", buffer.getvalue())}
    )
    missing = logged_in_client.post("/email/editor/images/", {})

    assert ok.status_code == 201 and ok.json()["url"].endswith(".jpg")
    assert missing.status_code == 400


def test_the_campaign_and_template_pages_link_to_the_editor(logged_in_client, account):
    campaign = EmailCampaignFactory(account=account)
    template = EmailTemplateFactory(account=account)

    edit = logged_in_client.get(f"/email/{campaign.pk}/").content.decode()
    gallery = logged_in_client.get("/email/new/").content.decode()

    assert f"/email/{campaign.pk}/editor/" in edit
    assert f"/email/templates/{template.pk}/editor/" in gallery


@pytest.mark.parametrize(
    ("language", "heading", "hide", "error"),
    [
        ("fr", "Éditeur de blocs", "Masquer sur mobile", "Ce champ est obligatoire."),
        ("en", "Block editor", "Hide on mobile", "This field is required."),
    ],
)
def test_the_editor_speaks_french_and_english(
    logged_in_client, account, settings, language, heading, hide, error
):
    logged_in_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    campaign = EmailCampaignFactory(account=account)

    page = logged_in_client.get(f"/email/{campaign.pk}/editor/?start=blank")
    refused = post_json(
        logged_in_client,
        f"/email/{campaign.pk}/editor/save/",
        {"design": {"sections": [{"columns": [{"blocks": [{"type": "button"}]}]}]}},
    )

    assert heading in page.content.decode()
    assert page.context["strings"]["hideOnMobile"] == hide
    assert refused.json()["fields"]["sections[0].columns[0].blocks[0].label"] == [error]


def test_a_section_saved_for_reuse_is_offered_in_every_editor_of_the_account(
    logged_in_client, account
):
    footer = blank_design()["sections"][1]

    created = post_json(
        logged_in_client,
        "/email/editor/saved-sections/",
        {"name": "Pied de page", "section": footer},
    )
    unnamed = post_json(logged_in_client, "/email/editor/saved-sections/", {"section": footer})
    broken = post_json(
        logged_in_client,
        "/email/editor/saved-sections/",
        {"name": "x", "section": {"columns": [{"blocks": [{"type": "image"}]}]}},
    )

    assert created.status_code == 201
    assert unnamed.status_code == 400 and "name" in unnamed.json()["fields"]
    assert broken.status_code == 400
    assert "sections[0].columns[0].blocks[0].src" in broken.json()["fields"]
    campaign = EmailCampaignFactory(account=account)
    offered = logged_in_client.get(f"/email/{campaign.pk}/editor/?start=blank").context["config"]
    assert [(s["name"], s["section"]) for s in offered["savedSections"]] == [
        ("Pied de page", created.json()["section"])
    ]


def test_another_accounts_saved_section_cannot_be_deleted(logged_in_client, account):
    from campaigns.models import SavedSection

    theirs = SavedSection.objects.create(
        account=AccountFactory(), name="x", section=blank_design()["sections"][0]
    )
    mine = SavedSection.objects.create(
        account=account, name="y", section=blank_design()["sections"][0]
    )

    refused = logged_in_client.post(f"/email/editor/saved-sections/{theirs.pk}/delete/")
    deleted = logged_in_client.post(f"/email/editor/saved-sections/{mine.pk}/delete/")

    assert refused.status_code == 404 and deleted.status_code == 200
    assert list(SavedSection.objects.values_list("name", flat=True)) == ["x"]


def test_a_new_template_starts_from_the_chooser(logged_in_client):
    chooser = logged_in_client.get("/email/templates/editor/")
    editor = logged_in_client.get("/email/templates/editor/?start=gallery:association-invitation")
    unknown = logged_in_client.get("/email/templates/editor/?start=gallery:nope")

    assert chooser.templates[0].name == "campaigns/editor_start.html"
    assert editor.context["config"]["saveUrl"] == "/email/templates/editor/save/"
    assert unknown.status_code == 404
