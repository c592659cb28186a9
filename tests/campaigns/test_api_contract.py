"""The email API agrees with its schema (issue 18): what the schema forbids is a 400, what it
allows is accepted, state conflicts are 409s, and merge tags are checked alike everywhere."""

import pytest
import yaml
from django.core.management import call_command

from campaigns.gallery import gallery
from campaigns.models import DkimKey, EmailCampaign, EmailTemplate, SenderAddress
from tests.factories import ContactListFactory, EmailCampaignFactory, SenderAddressFactory

pytestmark = pytest.mark.django_db
CAMPAIGNS = "/api/v1/campaigns/email/"


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        from io import StringIO

        out = StringIO()
        call_command("spectacular", stdout=out)
    return yaml.safe_load(out.getvalue())


def _parameter(schema, path, method, name):
    operation = schema["paths"][path][method]
    return next(p for p in operation["parameters"] if p["name"] == name)


def _component(schema, path, method):
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


def _resolve(schema, property_schema):
    if "$ref" in property_schema:
        return schema["components"]["schemas"][property_schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in property_schema:
        return _resolve(schema, property_schema["allOf"][0])
    return property_schema


def _invalid(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    return body


def test_an_unknown_campaign_status_filter_is_a_400_and_a_known_one_filters(
    api_client, account, schema
):
    draft = EmailCampaignFactory(account=account)
    EmailCampaignFactory(account=account, status=EmailCampaign.Status.FINISHED)

    unknown = api_client.get(f"{CAMPAIGNS}?status=nope")
    drafts = api_client.get(f"{CAMPAIGNS}?status=draft")

    _invalid(unknown, "status")
    assert [row["id"] for row in drafts.json()["results"]] == [draft.pk]
    parameter = _parameter(schema, "/api/v1/campaigns/email/", "get", "status")
    assert sorted(parameter["schema"]["enum"]) == sorted(EmailCampaign.Status.values)


def test_an_unknown_recipients_status_filter_is_a_400(api_client, account, schema):
    campaign = EmailCampaignFactory(account=account)

    response = api_client.get(f"{CAMPAIGNS}{campaign.pk}/recipients/?status=AAA")
    twice = api_client.get(f"{CAMPAIGNS}{campaign.pk}/recipients/?status=sent&status=sent")
    empty = api_client.get(f"{CAMPAIGNS}{campaign.pk}/recipients/?status=")  # found by schemathesis

    _invalid(response, "status")
    _invalid(twice, "status")
    _invalid(empty, "status")
    path = "/api/v1/campaigns/email/{id}/recipients/"
    assert "enum" in _parameter(schema, path, "get", "status")["schema"]


@pytest.mark.parametrize(
    "body",
    [
        {"lists": ["1"]},
        {"lists": {}},
        {"excluded_segments": {}},
        {"lists": "1"},
        {"name": 0},
        {"subject": 0},
        {"track_opens": "yes"},
        {"utm_parameters": {"utm_source": 1}},
        {"gallery_template": 0},
    ],
)
def test_a_campaign_body_of_the_wrong_types_is_a_400(api_client, body):
    response = api_client.post(CAMPAIGNS, {"name": "x", "subject": "x", **body}, format="json")

    _invalid(response, next(iter(body)))
    assert not EmailCampaign.objects.exists()


def test_list_ids_given_as_numbers_are_taken(api_client, account):
    newsletter = ContactListFactory(account=account)

    response = api_client.post(
        CAMPAIGNS, {"name": "x", "subject": "x", "lists": [newsletter.pk]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["lists"] == [newsletter.pk]


def test_an_api_key_name_that_is_not_a_text_is_a_400(api_client):
    _invalid(api_client.post("/api/v1/api-keys/", {"name": 0}, format="json"), "name")


def test_a_sender_name_that_is_not_a_text_is_a_400(api_client):
    response = api_client.post("/api/v1/senders/", {"email": "a@shop.fr", "name": 0}, format="json")

    _invalid(response, "name")
    assert not SenderAddress.objects.exists()


def test_an_existing_sender_address_is_a_409_on_email(api_client, account):
    SenderAddressFactory(account=account, email="news@shop.fr")

    again = api_client.post(
        "/api/v1/senders/", {"email": "News@Shop.fr", "name": "Again"}, format="json"
    )

    assert again.status_code == 409
    assert again.json() == {
        "code": "sender_exists",
        "message": "email: This sender address already exists.",
        "fields": {"email": ["This sender address already exists."]},
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"domain": "0", "selector": 0}, "selector"),
        ({"domain": "0"}, "domain"),
        ({"domain": "not a domain!"}, "domain"),
        ({"domain": "shop.fr", "selector": "../../x"}, "selector"),
        ({"domain": "shop.fr", "selector": "-x"}, "selector"),
        ({"domain": "shop.fr", "selector": "x" * 64}, "selector"),
        ({"domain": "-shop.fr"}, "domain"),
        ({"domain": "x" * 64 + ".fr"}, "domain"),
        ({"domain": ".".join(["abcdefghi"] * 26)}, "domain"),  # 259 characters
        ({"domain": " shop.fr"}, "domain"),
        ({"domain": 12}, "domain"),
    ],
)
def test_a_dkim_key_needs_a_host_name_and_a_dns_label_selector(api_client, body, field):
    _invalid(api_client.post("/api/v1/dkim-keys/", body, format="json"), field)
    assert not DkimKey.objects.exists()


@pytest.mark.parametrize(
    ("domain", "stored"),
    [("Shop.FR.", "shop.fr"), ("mail.bücher.example", "mail.bücher.example")],
)
def test_a_dkim_key_takes_host_names_and_idna_ones(api_client, domain, stored):
    response = api_client.post(
        "/api/v1/dkim-keys/", {"domain": domain, "selector": "s-2025"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert (response.json()["domain"], response.json()["selector"]) == (stored, "s-2025")


def test_the_dkim_schema_states_the_domain_and_selector_rules(schema):
    properties = _component(schema, "/api/v1/dkim-keys/", "post")["properties"]

    assert properties["domain"]["maxLength"] == 253
    assert properties["selector"]["maxLength"] == 63
    assert properties["domain"]["pattern"].startswith("^")
    assert properties["selector"]["pattern"].startswith("^")


def test_account_time_zones_and_phone_regions_are_enums_in_the_schema(schema, api_client):
    component = _component(schema, "/api/v1/account/", "patch")["properties"]
    timezones = _resolve(schema, component["timezone"])["enum"]
    regions = _resolve(schema, component["default_phone_region"])["enum"]

    assert "0" not in timezones and "Europe/Paris" in timezones
    assert timezones == sorted(timezones)
    assert "00" not in regions and "FR" in regions
    for value in ("0", 0):
        _invalid(
            api_client.patch("/api/v1/account/", {"timezone": value}, format="json"), "timezone"
        )
    bad_region = api_client.patch("/api/v1/account/", {"default_phone_region": "00"}, format="json")
    _invalid(bad_region, "default_phone_region")
    good = api_client.patch(
        "/api/v1/account/", {"timezone": timezones[0], "default_phone_region": "BE"}, format="json"
    )
    assert good.status_code == 200, good.content


def test_gallery_template_names_are_an_enum(api_client, account, schema):
    campaign = EmailCampaignFactory(account=account)

    response = api_client.patch(
        f"{CAMPAIGNS}{campaign.pk}/", {"gallery_template": "00"}, format="json"
    )

    _invalid(response, "gallery_template")
    properties = _component(schema, "/api/v1/campaigns/email/{id}/", "patch")["properties"]
    enum = _resolve(schema, properties["gallery_template"])["enum"]
    assert enum == sorted(template.slug for template in gallery())


def test_the_campaign_example_works_on_a_fresh_account(api_client, schema):
    operation = schema["paths"]["/api/v1/campaigns/email/"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]

    for example in examples.values():
        response = api_client.post(CAMPAIGNS, example["value"], format="json")
        assert response.status_code == 201, response.content


def test_scheduling_a_campaign_already_sent_is_a_409(api_client, account):
    campaign = EmailCampaignFactory(account=account, status=EmailCampaign.Status.FINISHED)

    response = api_client.post(f"{CAMPAIGNS}{campaign.pk}/schedule/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_sent"
    assert set(response.json()["fields"]) == {"status"}


def test_an_invalid_mjml_template_is_a_400_and_the_schema_says_mjml_starts_with_mjml(
    api_client, schema
):
    response = api_client.post(
        "/api/v1/templates/", {"name": "x", "kind": "mjml", "source": "00"}, format="json"
    )

    _invalid(response, "source")
    body = _component(schema, "/api/v1/templates/", "post")
    mjml_branch = next(
        branch for branch in body["anyOf"] if branch["properties"]["kind"]["pattern"] == "^mjml$"
    )
    assert mjml_branch["properties"]["source"]["pattern"] == r"^\s*<mjml"
    assert mjml_branch["required"] == ["kind"]


@pytest.mark.parametrize(
    ("source", "field_text"),
    [
        ("<p>{{ nope }}</p>", "unknown merge tag: nope"),
        ("<p>Hi {{ first_name</p>", "unclosed merge tag at character 7"),
    ],
)
def test_a_template_goes_through_the_merge_tag_check(api_client, source, field_text):
    response = api_client.post(
        "/api/v1/templates/", {"name": "x", "kind": "html", "source": source}, format="json"
    )

    body = _invalid(response, "source")
    assert field_text in body["fields"]["source"][0]
    assert not EmailTemplate.objects.exists()


@pytest.mark.parametrize(
    ("field", "text", "reported"),
    [
        ("subject", "[TEST] Hi {{ first_name", "{{ first_name: unclosed merge tag at character 11"),
        (
            "html",
            "<p>{{ contact.first_name",
            "{{ contact.first_name: unclosed merge tag at character 4",
        ),
        ("text", "Hi {% if", "{% if: unclosed merge tag at character 4"),
    ],
)
def test_an_unclosed_merge_tag_in_a_campaign_is_a_400_naming_the_field_and_position(
    api_client, field, text, reported
):
    response = api_client.post(CAMPAIGNS, {"name": "x", "subject": "x", field: text}, format="json")

    body = _invalid(response, field)
    assert body["fields"][field] == [reported]
    assert not EmailCampaign.objects.exists()


def test_the_gallery_templates_pass_the_merge_tag_check(api_client):
    for template in gallery():
        response = api_client.post(
            CAMPAIGNS,
            {"name": "x", "subject": "x", "gallery_template": template.slug},
            format="json",
        )
        assert response.status_code == 201, (template.slug, response.content)


def test_the_dashboard_days_bounds_are_in_the_schema(api_client, schema):
    parameter = _parameter(schema, "/api/v1/stats/dashboard/", "get", "days")

    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, 366)
    _invalid(api_client.get("/api/v1/stats/dashboard/?days=0"), "days")
    _invalid(api_client.get("/api/v1/stats/dashboard/?days=367"), "days")
    assert api_client.get("/api/v1/stats/dashboard/?days=1").status_code == 200


@pytest.mark.parametrize("query", ["days=", "days=1.0", "days=%201", "days=1&days=2"])
def test_a_dashboard_days_that_is_not_one_whole_number_is_a_400(api_client, query):
    _invalid(api_client.get(f"/api/v1/stats/dashboard/?{query}"), "days")


def test_an_empty_or_unknown_activity_bucket_is_a_400(api_client, account):
    campaign = EmailCampaignFactory(account=account)
    url = f"{CAMPAIGNS}{campaign.pk}/report/activity/"

    _invalid(api_client.get(f"{url}?bucket="), "bucket")
    _invalid(api_client.get(f"{url}?bucket=week"), "bucket")
    assert api_client.get(f"{url}?bucket=day").status_code == 200


def test_only_the_five_utm_keys_are_in_the_schema_and_taken(api_client, schema):
    properties = _component(schema, "/api/v1/campaigns/email/", "post")["properties"]
    utm = _resolve(schema, properties["utm_parameters"])

    assert utm["additionalProperties"] is False
    assert set(utm["properties"]) == {
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"
    }  # fmt: skip
    response = api_client.post(
        CAMPAIGNS, {"name": "x", "subject": "x", "utm_parameters": {"x-other": "1"}}, format="json"
    )
    _invalid(response, "utm_parameters")


def test_scheduling_a_draft_that_is_not_ready_is_a_409_naming_what_is_missing(api_client, account):
    campaign = EmailCampaignFactory(account=account, sender=None)

    response = api_client.post(f"{CAMPAIGNS}{campaign.pk}/schedule/", {"at": None}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "not_ready"
    assert {"sender", "lists"} <= set(response.json()["fields"])


@pytest.mark.parametrize("item", [0, -1, 2**63])
def test_list_ids_out_of_the_schema_range_are_a_400(api_client, item, schema):
    response = api_client.post(
        CAMPAIGNS, {"name": "x", "subject": "x", "excluded_segments": [item]}, format="json"
    )

    _invalid(response, "excluded_segments")
    items = _component(schema, "/api/v1/campaigns/email/", "post")["properties"]["lists"]["items"]
    assert (items["minimum"], items["maximum"]) == (1, 2**63 - 1)
