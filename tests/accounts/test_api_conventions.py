"""The API's shared conventions under hostile input: every refusal in the `{code, message, fields}`
shape, never a 500 (issue 18)."""

import json

import pytest
from django.test import override_settings

from accounts.api_parsers import MAX_JSON_DEPTH, json_depth_exceeds

DEEP_BODY = "[" * 1000 + "]" * 1000  # ~2 KB; 1,000 levels made the json module recurse to a 500

JSON_ENDPOINTS = [
    ("post", "/api/v1/contacts/"),
    ("post", "/api/v1/contacts/upsert/"),
    ("post", "/api/v1/contacts/bulk/"),
    ("post", "/api/v1/lists/"),
    ("post", "/api/v1/segments/"),
    ("post", "/api/v1/segments/preview/"),
    ("post", "/api/v1/campaigns/email/"),
    ("patch", "/api/v1/account/"),
]


def _assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code


@pytest.mark.parametrize(("method", "url"), JSON_ENDPOINTS)
def test_deeply_nested_json_is_refused_with_400(api_client, method, url):
    response = getattr(api_client, method)(url, DEEP_BODY, content_type="application/json")

    _assert_error_shape(response, 400, "parse_error")
    assert f"deeper than {MAX_JSON_DEPTH} levels" in response.json()["message"]


def test_nesting_at_the_limit_is_parsed(api_client):
    nested = {"name": "Clients", "description": "x"}
    body = json.dumps(nested)
    for _level in range(MAX_JSON_DEPTH - 1):
        body = f'{{"name": "Clients", "extra": {body}}}'

    response = api_client.post("/api/v1/lists/", body, content_type="application/json")

    assert response.status_code == 201, response.content


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"name": "[" * 500 + "{" * 500, "quote": 'a "[" b \\" [[['})

    assert not json_depth_exceeds(text)


def test_depth_is_counted_across_objects_and_arrays():
    assert json_depth_exceeds('{"a": [' * 40 + "1" + "]}" * 40)
    assert not json_depth_exceeds('{"a": [' * 32 + "1" + "]}" * 32)
    assert not json_depth_exceeds("[" + "[], " * 500 + "[]]")  # wide, not deep


def test_invalid_json_is_a_parse_error(api_client):
    response = api_client.post("/api/v1/lists/", '{"name": ', content_type="application/json")

    _assert_error_shape(response, 400, "parse_error")


def test_nan_is_not_json(api_client):
    response = api_client.post("/api/v1/lists/", '{"name": NaN}', content_type="application/json")

    _assert_error_shape(response, 400, "parse_error")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_body_over_the_upload_limit_is_413_in_the_api_shape(api_client):
    body = json.dumps({"name": "x" * 20_000})

    response = api_client.post("/api/v1/lists/", body, content_type="application/json")

    _assert_error_shape(response, 413, "too_large")
    assert "10,000 bytes" in response.json()["message"]


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?format=json", "", "application/vnd.oai.openapi+json"),
        ("?format=json", "application/json", "application/json"),
        ("?format=yaml", "", "application/vnd.oai.openapi"),
        ("", "application/json", "application/json"),
    ],
)
def test_schema_honours_the_format_parameter(client, query, accept, expected):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = client.get(f"/api/schema/{query}", **headers)

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == expected
    if "json" in expected:
        assert json.loads(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize(
    "query",
    [
        "page_size=abc",
        "page_size=0",
        "page_size=501",
        "page_size=null",
        "page_size=2&page_size=3",
        "page_size=-4",
        "page_size=²",
    ],
)
def test_a_bad_page_size_is_refused_not_replaced_by_the_default(api_client, query):
    response = api_client.get(f"/api/v1/lists/?{query}")

    _assert_error_shape(response, 400, "invalid")
    assert "page_size" in response.json()["fields"]


def test_page_size_is_honoured(api_client):
    for name in ("A", "B", "C"):
        assert api_client.post("/api/v1/lists/", {"name": name}).status_code == 201

    response = api_client.get("/api/v1/lists/?page_size=2")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert response.json()["next"]


def test_schema_documents_page_size_bounds_id_range_and_no_nul(client):
    schema = client.get("/api/schema/?format=json").json()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/lists/"]["get"]["parameters"]
    }
    path_id = next(
        p["schema"]
        for p in schema["paths"]["/api/v1/lists/{id}/"]["get"]["parameters"]
        if p["in"] == "path"
    )

    assert parameters["page_size"]["minimum"] == 1
    assert parameters["page_size"]["maximum"] == 500
    assert parameters["cursor"]["pattern"] == "^[^\\u0000]*$"
    assert path_id["minimum"] == 1
    assert path_id["maximum"] == 2**63 - 1


def test_schema_says_request_text_holds_no_nul(client):
    schema = client.get("/api/schema/?format=json").json()
    label = schema["components"]["schemas"]["PatchedContactFieldUpdateRequest"]["properties"][
        "label"
    ]

    # a visible character, and no NUL anywhere (DRF strips white space and refuses NUL)
    assert label["pattern"] == "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


@pytest.mark.parametrize("name", ["   ", "\t\n", "\u00a0"])
def test_text_of_white_space_only_is_refused_as_the_schema_says(api_client, name):
    response = api_client.post("/api/v1/lists/", {"name": name})

    _assert_error_shape(response, 400, "invalid")
    assert "name" in response.json()["fields"]


def test_nul_in_request_text_is_refused(api_client):
    response = api_client.post("/api/v1/lists/", {"name": "a\x00b"})

    _assert_error_shape(response, 400, "invalid")
    assert "name" in response.json()["fields"]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"a": [{"b": "ok"}, {"b": "x\x00"}]}, "a[1].b"),
        ({"a": {"k\x00": 1}}, "a.k\\u0000"),
        ({"\x00": 1}, "\\u0000"),
    ],
)
def test_a_stored_json_document_refuses_a_nul_naming_its_path(document, path):
    from rest_framework.exceptions import ValidationError

    from accounts.api_fields import JSONDocumentField

    with pytest.raises(ValidationError) as refused:
        JSONDocumentField().run_validation(document)
    assert refused.value.detail[0].endswith(f": {path}.")
    assert JSONDocumentField().run_validation({"a": ["no nul", {"b": 1}]}) == {
        "a": ["no nul", {"b": 1}]
    }
