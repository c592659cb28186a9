"""GET / PUT of block designs over the API, and the design's schema against its checker."""

import copy

import jsonschema
import pytest

from campaigns.api.designs import DESIGN_SCHEMA
from campaigns.editor.design import DesignInvalid, design_normalise
from campaigns.editor.importer import design_from_mjml
from campaigns.gallery import gallery, template_source
from campaigns.models import EmailTemplate
from tests.factories import AccountFactory, EmailCampaignFactory, EmailTemplateFactory

CAMPAIGNS = "/api/v1/campaigns/email/"
TEMPLATES = "/api/v1/templates/"
FOOTER = {"type": "text", "html": '<p><a href="{{ unsubscribe_url }}">Se désinscrire</a></p>'}
DESIGN = {
    "sections": [
        {
            "columns": [
                {
                    "blocks": [
                        {"type": "text", "html": "<p>Bonjour {{ first_name }}</p>"},
                        {"type": "cart", "max_items": 2, "label": "Finaliser"},
                        FOOTER,
                    ]
                }
            ]
        }
    ]
}


def _json_schema(openapi: object) -> object:
    """OpenAPI 3.0's `nullable` as JSON Schema's type list."""
    if isinstance(openapi, dict):
        result = {key: _json_schema(value) for key, value in openapi.items() if key != "nullable"}
        if openapi.get("nullable"):
            if "type" in result:
                result["type"] = [result["type"], "null"]
            else:
                result = {"anyOf": [result, {"type": "null"}]}
        return result
    if isinstance(openapi, list):
        return [_json_schema(item) for item in openapi]
    return openapi


VALIDATOR = jsonschema.Draft7Validator(_json_schema(DESIGN_SCHEMA))


@pytest.mark.parametrize("slug", [template.slug for template in gallery()][:6])
def test_every_normalised_design_fits_the_schema(slug):
    VALIDATOR.validate(design_from_mjml(template_source(slug)))
    VALIDATOR.validate(design_normalise(DESIGN))


def _set(design: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(design)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


BLOCK = ("sections", 0, "columns", 0, "blocks", 1)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), True),
        (("version",), 2),
        (("styles",), {"width": 479}),
        (("styles",), {"font_family": "Comic Sans MS"}),
        (("sections", 0, "id"), "no spaces allowed"),
        (("sections", 0, "padding"), "10em"),
        (("sections", 0, "columns"), []),
        ((*BLOCK, "type"), "carousel"),
        ((*BLOCK, "max_items"), 11),
        ((*BLOCK, "max_items"), 2.5),
        ((*BLOCK, "show_images"), 1),
        ((*BLOCK, "button_color"), "red"),
        ((*BLOCK, "surprise"), "x"),
        ((*BLOCK, "label"), "nul\x00"),
        (("sections", 0, "columns", 0, "blocks", 0, "html"), "a" * 50_001),
    ],
)
def test_what_the_schema_refuses_the_checker_refuses(path, value):
    wrong = _set(DESIGN, path, value)
    assert not VALIDATOR.is_valid(wrong)
    with pytest.raises(DesignInvalid):
        design_normalise(wrong)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("sections", 0, "padding"), " 10px 20 "),
        ((*BLOCK, "button_color"), "#ABC"),
        ((*BLOCK, "button_color"), ""),
        ((*BLOCK, "font_family"), ""),
        ((*BLOCK, "font_family"), "Georgia, 'Times New Roman', Times, serif"),
        (("sections", 0, "id"), None),
        ((*BLOCK, "id"), "a-b_C"),
    ],
)
def test_what_the_schema_allows_the_checker_takes(path, value):
    right = _set(DESIGN, path, value)
    assert VALIDATOR.is_valid(right)
    design_normalise(right)


def test_raw_html_with_mjml_is_refused_by_both():
    raw = {"sections": [{"columns": [{"blocks": [{"type": "html", "html": "<MJ-text>x"}]}]}]}
    assert not VALIDATOR.is_valid(raw)
    with pytest.raises(DesignInvalid):
        design_normalise(raw)


@pytest.mark.django_db
def test_put_then_get_a_campaign_design(api_client, account):
    campaign = EmailCampaignFactory(account=account, subject="Votre panier")
    url = f"{CAMPAIGNS}{campaign.pk}/design/"
    empty = api_client.get(url)
    assert empty.status_code == 200 and empty.json()["design"] is None

    saved = api_client.put(url, DESIGN, format="json")

    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["warnings"] == [] and "sendethic:repeat cart.items limit=2" in body["html"]
    VALIDATOR.validate(body["design"])
    again = api_client.get(url).json()
    assert again["design"] == body["design"] and again["changed_elsewhere"] is False
    campaign.refresh_from_db()
    assert campaign.html == body["html"]


@pytest.mark.django_db
def test_a_bad_design_is_a_400_naming_json_paths(api_client, account):
    campaign = EmailCampaignFactory(account=account)
    wrong = _set(_set(DESIGN, (*BLOCK, "max_items"), 0), (*BLOCK, "extra"), 1)
    answer = api_client.put(f"{CAMPAIGNS}{campaign.pk}/design/", wrong, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid_design" and body["message"]
    assert set(body["fields"]) == {
        "sections[0].columns[0].blocks[1].max_items",
        "sections[0].columns[0].blocks[1].extra",
    }
    unknown_tag = _set(DESIGN, ("sections", 0, "columns", 0, "blocks", 0, "html"), "{{ nope }}")
    answer = api_client.put(f"{CAMPAIGNS}{campaign.pk}/design/", unknown_tag, format="json")
    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["sections[0].columns[0].blocks[0]"]
    assert api_client.put(f"{CAMPAIGNS}{campaign.pk}/design/", [], format="json").status_code == 400


@pytest.mark.django_db
def test_a_sent_campaign_design_is_a_409_and_another_account_a_404(api_client, account):
    sent = EmailCampaignFactory(account=account, status="finished")
    assert api_client.put(f"{CAMPAIGNS}{sent.pk}/design/", DESIGN, format="json").status_code == 409
    other = EmailCampaignFactory(account=AccountFactory())
    assert api_client.get(f"{CAMPAIGNS}{other.pk}/design/").status_code == 404
    assert (
        api_client.put(f"{CAMPAIGNS}{other.pk}/design/", DESIGN, format="json").status_code == 404
    )
    other_template = EmailTemplateFactory(account=other.account)
    assert api_client.get(f"{TEMPLATES}{other_template.pk}/design/").status_code == 404


@pytest.mark.django_db
def test_put_then_get_a_template_design(api_client, account):
    template = EmailTemplateFactory(
        account=account, name="Relance", kind=EmailTemplate.Kind.HTML, source="<p>Hi</p>"
    )
    url = f"{TEMPLATES}{template.pk}/design/"
    opened = api_client.get(url)
    assert opened.status_code == 200
    VALIDATOR.validate(opened.json()["design"])

    saved = api_client.put(url, DESIGN, format="json")

    assert saved.status_code == 200, saved.json()
    template.refresh_from_db()
    assert template.kind == EmailTemplate.Kind.MJML and template.name == "Relance"
    assert api_client.get(url).json()["design"] == saved.json()["design"]
    assert template.html == saved.json()["html"]


@pytest.mark.django_db
def test_raw_html_mrml_cannot_read_is_a_400_naming_its_block(api_client, account):
    campaign = EmailCampaignFactory(account=account)
    template = EmailTemplateFactory(account=account)
    unreadable = _set(DESIGN, (*BLOCK,), {"type": "html", "html": "<p"})
    for url in (f"{CAMPAIGNS}{campaign.pk}/design/", f"{TEMPLATES}{template.pk}/design/"):
        answer = api_client.put(url, unreadable, format="json")
        assert answer.status_code == 400, answer.content
        assert list(answer.json()["fields"]) == ["sections[0].columns[0].blocks[1].html"]


@pytest.mark.django_db
def test_a_block_type_of_the_wrong_json_type_is_a_400(api_client, account):
    template = EmailTemplateFactory(account=account)
    wrong = _set(DESIGN, (*BLOCK, "type"), {})
    answer = api_client.put(f"{TEMPLATES}{template.pk}/design/", wrong, format="json")
    assert answer.status_code == 400
    assert "sections[0].columns[0].blocks[1].type" in answer.json()["fields"]


def test_the_put_of_a_campaign_design_documents_its_409():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    put = schema["paths"]["/api/v1/campaigns/email/{id}/design/"]["put"]
    assert "409" in put["responses"] and "400" in put["responses"]
