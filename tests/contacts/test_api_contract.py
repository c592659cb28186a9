"""The contacts API does what its OpenAPI schema says, no more and no less (issue 18): what the
schema refuses is a 400, what it allows is not refused, a state conflict is a 409, and its
examples work on a fresh account."""

import pytest

from accounts.api_conventions import INT64
from contacts.models import ContactField, ContactImport, ContactList

pytestmark = pytest.mark.django_db

PAST_INT64 = "9709685288367264560184295424"


@pytest.fixture
def schema(client):
    return client.get("/api/schema/?format=json").json()


def request_schema(schema, path, method):
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return resolve(schema, body)


def resolve(schema, node):
    return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]


def parameter(schema, path, name):
    return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)


def assert_invalid(response, field):
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/contacts/?list={PAST_INT64}",  # was a 500 (OverflowError) on SQLite
        f"/api/v1/contacts/?list={INT64 + 1}",
        "/api/v1/contacts/?list=0",
        "/api/v1/contacts/?list=",
        "/api/v1/contacts/?list=1&list=2",
        f"/api/v1/exports/contacts/?list={PAST_INT64}",
        f"/api/v1/exports/contacts/?segment={PAST_INT64}",
        "/api/v1/exports/contacts/?segment=abc",
    ],
)
def test_an_id_filter_outside_int64_is_a_400(api_client, url):
    name = url.split("?")[1].split("=")[0]

    assert_invalid(api_client.get(url), name)


@pytest.mark.parametrize(
    "path",
    [
        "contacts/{}/",
        "contacts/{}/consent/",
        "lists/{}/",
        "lists/{}/members/",
        "segments/{}/count/",
        "fields/{}/",
        "imports/{}/",
    ],
)
@pytest.mark.parametrize("pk", [PAST_INT64, str(INT64 + 1)])
def test_a_path_id_past_int64_is_a_404(api_client, path, pk):
    assert api_client.get("/api/v1/" + path.format(pk)).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["email_status=nope", "sms_status=SUBSCRIBED", "email_status=none&email_status=pending"],
)
def test_an_unknown_or_repeated_status_filter_is_a_400(api_client, schema, query):
    assert_invalid(api_client.get(f"/api/v1/contacts/?{query}"), query.split("=")[0])
    assert parameter(schema, "/api/v1/contacts/", "email_status")["schema"]["enum"]


def test_a_known_status_filter_filters(api_client):
    api_client.post("/api/v1/contacts/", {"email": "a@example.com", "email_status": "subscribed"})
    api_client.post("/api/v1/contacts/", {"email": "b@example.com"})

    results = api_client.get("/api/v1/contacts/?email_status=subscribed").json()["results"]

    assert [row["email"] for row in results] == ["a@example.com"]


@pytest.mark.parametrize("query", ["format=pdf", "format=csv&format=xlsx"])
def test_an_unknown_export_format_is_a_400(api_client, query):
    assert_invalid(api_client.get(f"/api/v1/exports/contacts/?{query}"), "format")


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/v1/contacts/", {"email": "a@example.com", "first_name": 0}, "first_name"),
        ("post", "/api/v1/contacts/upsert/", {"email": 12}, "email"),
        ("post", "/api/v1/contacts/", {"email": "a@example.com", "sms_status": 1}, "sms_status"),
        ("post", "/api/v1/contacts/bulk/", {"contacts": [{"email": "a@x.fr"}], "list_id": "1"}, "list_id"),
        ("post", "/api/v1/contacts/bulk/", {"contacts": [{"email": "a@x.fr"}], "policy": 1}, "policy"),
        ("post", "/api/v1/lists/", {"name": 0}, "name"),
        ("post", "/api/v1/lists/", {"name": "VIP", "description": 0}, "description"),
        ("post", "/api/v1/fields/", {"key": "size", "label": 5, "type": "text"}, "label"),
        ("post", "/api/v1/fields/", {"key": "shop", "label": "Shop", "type": "choice", "choices": [0]}, "choices"),
        ("post", "/api/v1/segments/", {"name": 0, "rules": {"all": []}}, "name"),
    ],
)  # fmt: skip
def test_a_wrong_json_type_in_a_body_is_a_400_not_coerced(api_client, method, url, body, field):
    assert_invalid(getattr(api_client, method)(url, body), field)


def test_wrong_types_in_patch_bodies_are_a_400(api_client):
    list_id = api_client.post("/api/v1/lists/", {"name": "VIP"}).json()["id"]
    field_id = api_client.post(
        "/api/v1/fields/", {"key": "shop", "label": "Shop", "type": "choice", "choices": ["a"]}
    ).json()["id"]

    assert_invalid(api_client.patch(f"/api/v1/lists/{list_id}/", {"name": 0}), "name")
    assert_invalid(api_client.patch(f"/api/v1/lists/{list_id}/", {"description": 0}), "description")
    assert_invalid(api_client.patch(f"/api/v1/fields/{field_id}/", {"label": 0}), "label")
    assert_invalid(api_client.patch(f"/api/v1/fields/{field_id}/", {"choices": [0]}), "choices")
    assert ContactList.objects.get(pk=list_id).name == "VIP"
    assert ContactField.objects.get(pk=field_id).choices == ["a"]


def test_a_bulk_row_with_a_wrong_type_refuses_the_call(api_client):
    rows = [{"email": "good@example.com"}, {"email": "bad@example.com", "sms_status": {}}]

    response = api_client.post("/api/v1/contacts/bulk/", {"contacts": rows})

    assert_invalid(response, "contacts")
    assert "1: sms_status" in response.json()["fields"]["contacts"][0]
    assert not api_client.get("/api/v1/contacts/").json()["results"]


def test_a_bulk_row_with_an_unknown_status_refuses_the_call(api_client):
    rows = [{"email": "a@example.com", "email_status": "maybe"}]

    assert_invalid(api_client.post("/api/v1/contacts/bulk/", {"contacts": rows}), "contacts")


def test_a_bulk_row_with_a_bad_value_is_still_a_row_error(api_client):
    rows = [{"email": "good@example.com"}, {"email": "not an address"}]

    response = api_client.post("/api/v1/contacts/bulk/", {"contacts": rows})

    assert response.status_code == 200
    assert [row["status"] for row in response.json()["results"]] == ["created", "error"]


def test_non_empty_lists_are_in_the_schema(api_client, schema):
    bulk = request_schema(schema, "/api/v1/contacts/bulk/", "post")["properties"]["contacts"]
    members = request_schema(schema, "/api/v1/lists/{id}/members/", "post")
    ids = members["properties"]["contact_ids"]
    list_id = api_client.post("/api/v1/lists/", {"name": "VIP"}).json()["id"]

    assert (bulk["minItems"], bulk["maxItems"]) == (1, 1000)
    assert (ids["minItems"], ids["maxItems"]) == (1, 10_000)
    assert ids["items"]["maximum"] == INT64
    assert_invalid(api_client.post("/api/v1/contacts/bulk/", {"contacts": []}), "contacts")
    empty = api_client.post(f"/api/v1/lists/{list_id}/members/", {"contact_ids": []})
    assert_invalid(empty, "contact_ids")
    too_big = api_client.post(f"/api/v1/lists/{list_id}/members/", {"contact_ids": [INT64 + 1]})
    assert_invalid(too_big, "contact_ids")


def test_a_taken_field_key_is_a_409_naming_the_key(api_client):
    body = {"key": "size", "label": "Taille", "type": "text"}
    assert api_client.post("/api/v1/fields/", body).status_code == 201

    for key in ("size", "email"):  # another custom field's, or a built-in field's
        response = api_client.post("/api/v1/fields/", {**body, "key": key})

        assert response.status_code == 409, response.content
        assert response.json()["code"] == "conflict"
        assert "key" in response.json()["fields"]


def test_a_taken_list_name_is_a_409_naming_the_name(api_client):
    api_client.post("/api/v1/lists/", {"name": "VIP"})
    other_id = api_client.post("/api/v1/lists/", {"name": "Gold"}).json()["id"]

    created = api_client.post("/api/v1/lists/", {"name": "VIP"})
    renamed = api_client.patch(f"/api/v1/lists/{other_id}/", {"name": "VIP"})

    for response in (created, renamed):
        assert response.status_code == 409, response.content
        assert response.json()["fields"] == {"name": ["a list with this name already exists"]}


def test_the_field_key_pattern_is_in_the_schema(api_client, schema):
    key = request_schema(schema, "/api/v1/fields/", "post")["properties"]["key"]

    assert key["pattern"] == "^[a-z][a-z0-9_]{0,62}$"
    body = {"key": "Size!", "label": "Taille", "type": "text"}
    assert_invalid(api_client.post("/api/v1/fields/", body), "key")


def _example(schema, path, media_type="application/json"):
    content = schema["paths"][path]["post"]["requestBody"]["content"][media_type]
    examples = content.get("examples") or {}
    assert examples, f"no example for POST {path}"
    return next(iter(examples.values()))["value"]


@pytest.mark.parametrize("path", ["/api/v1/contacts/", "/api/v1/contacts/upsert/"])
def test_the_contact_example_works_on_a_fresh_account(api_client, schema, path):
    response = api_client.post(path, _example(schema, path))

    assert response.status_code == 201, response.content


def test_the_segment_examples_work_on_a_fresh_account(api_client, schema):
    rules_ref = request_schema(schema, "/api/v1/segments/", "post")["properties"]["rules"]
    rules = resolve(schema, rules_ref)["example"]

    assert api_client.post("/api/v1/segments/preview/", {"rules": rules}).status_code == 200
    created = api_client.post("/api/v1/segments/", {"name": "Birthdays", "rules": rules})
    assert created.status_code == 201, created.content


def test_the_upload_example_is_a_csv_that_imports(api_client, schema):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = _example(schema, "/api/v1/imports/", "multipart/form-data")["file"]
    upload = SimpleUploadedFile("contacts.csv", text.encode(), content_type="text/csv")

    response = api_client.post("/api/v1/imports/", {"file": upload}, format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["mapping"] == ["email", "first_name", "city"]


def test_import_start_takes_json_only(api_client, schema):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", b"email;city\na@example.com;Lyon\n")
    import_id = api_client.post("/api/v1/imports/", {"file": upload}, format="multipart").json()
    start = f"/api/v1/imports/{import_id['id']}/start/"

    content = schema["paths"]["/api/v1/imports/{id}/start/"]["post"]["requestBody"]["content"]
    assert list(content) == ["application/json"]
    # Form fields are texts: `list_id=1` there was refused as "not a whole number" (a 400 for a
    # request the schema allowed); now the media type itself is refused.
    form = api_client.post(
        start, {"mapping": ["email", "city"], "list_id": "1"}, format="multipart"
    )
    assert form.status_code == 415
    assert_invalid(
        api_client.post(start, {"mapping": ["email", "city"], "list_id": "1"}), "list_id"
    )
    assert ContactImport.objects.get(pk=import_id["id"]).status == ContactImport.Status.UPLOADED


def test_export_columns_are_documented_and_checked(api_client, schema, custom_fields):
    pattern = parameter(schema, "/api/v1/exports/contacts/", "fields")["schema"]["pattern"]
    url = "/api/v1/exports/contacts/?fields="

    assert "fields\\." in pattern
    ok = api_client.get(url + "email,first_name,fields.points,email_status")
    assert ok.status_code == 200
    assert b"".join(ok.streaming_content).decode("utf-8-sig").splitlines()[0] == (
        "email;first_name;fields.points;email_status"
    )
    for garbage in ("ù\\x", "email,,city", "password", "fields.Points"):
        assert_invalid(api_client.get(url + garbage), "fields")
    # A well-formed custom column of a field the account does not have: like an unknown list id.
    assert api_client.get(url + "email,fields.nope").status_code == 404


def test_a_rule_group_has_exactly_one_key_in_the_schema_too(api_client, schema):
    rules_ref = request_schema(schema, "/api/v1/segments/", "post")["properties"]["rules"]
    rules = resolve(schema, rules_ref)
    both = {"all": [{"field": "city", "op": "eq", "value": "Lyon"}], "any": []}

    assert (rules["minProperties"], rules["maxProperties"]) == (1, 1)
    assert rules["additionalProperties"] is False
    assert_invalid(api_client.post("/api/v1/segments/preview/", {"rules": both}), "rules")


def test_the_consent_ip_address_format_is_in_the_schema(api_client, schema):
    contact_id = api_client.post("/api/v1/contacts/", {"email": "a@example.com"}).json()["id"]
    ip = request_schema(schema, "/api/v1/contacts/{id}/consent/", "post")["properties"]
    url = f"/api/v1/contacts/{contact_id}/consent/"
    body = {"channel": "email", "status": "subscribed"}

    assert [kind["format"] for kind in ip["ip_address"]["anyOf"]] == ["ipv4", "ipv6"]
    assert api_client.post(url, {**body, "ip_address": "2001:db8::1"}).status_code == 200
    assert_invalid(api_client.post(url, {**body, "ip_address": "not an ip"}), "ip_address")
    assert_invalid(api_client.post(url, {**body, "ip_address": 3232235777}), "ip_address")


def test_a_taken_segment_name_and_a_started_import_are_409(api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"name": "Lyon", "rules": {"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}}
    assert api_client.post("/api/v1/segments/", body).status_code == 201
    taken = api_client.post("/api/v1/segments/", body)
    assert taken.status_code == 409
    assert "name" in taken.json()["fields"]

    upload = SimpleUploadedFile("c.csv", b"email;city\na@example.com;Lyon\n")
    import_id = api_client.post("/api/v1/imports/", {"file": upload}, format="multipart").json()
    start = f"/api/v1/imports/{import_id['id']}/start/"
    assert api_client.post(start, {"mapping": ["email", "city"]}).status_code == 202
    again = api_client.post(start, {"mapping": ["email", "city"]})
    assert again.status_code == 409
    assert "status" in again.json()["fields"]


@pytest.mark.parametrize("method", ["post", "upsert", "patch"])
def test_a_custom_field_the_account_does_not_have_is_a_404(api_client, custom_fields, method):
    """Like an export naming it, or an unknown id: the request is well formed, the field is not
    there. A bad value beside it keeps the 400 naming every field (test_contacts_api)."""
    body = {"email": "a@example.com", "fields": {"points": 3, "nope": "x", "nada": 1}}
    if method == "patch":
        contact_id = api_client.post("/api/v1/contacts/", {"email": "a@example.com"}).json()["id"]
        response = api_client.patch(f"/api/v1/contacts/{contact_id}/", body)
    else:
        url = "/api/v1/contacts/" + ("upsert/" if method == "upsert" else "")
        response = api_client.post(url, body)

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert "nada, nope" in response.json()["message"]


def test_a_choice_field_needs_choices_and_the_others_have_none(api_client, schema):
    create = request_schema(schema, "/api/v1/fields/", "post")
    choice_case, other_case = create["oneOf"]

    assert choice_case["required"] == ["type", "choices"]
    assert choice_case["properties"]["choices"]["minItems"] == 1
    assert other_case["properties"]["choices"]["maxItems"] == 0
    field = {"key": "shop", "label": "Magasin", "type": "choice"}
    assert_invalid(api_client.post("/api/v1/fields/", field), "choices")
    assert_invalid(api_client.post("/api/v1/fields/", {**field, "choices": []}), "choices")
    text = {"key": "note", "label": "Note", "type": "text"}
    assert_invalid(api_client.post("/api/v1/fields/", {**text, "choices": ["a"]}), "choices")
    assert api_client.post("/api/v1/fields/", {**text, "choices": []}).status_code == 201
    created = api_client.post("/api/v1/fields/", {**field, "choices": ["Paris", " Paris "]})
    assert created.status_code == 201, created.content
    assert created.json()["choices"] == ["Paris"]
