import pytest

from contacts.models import Contact, ContactList, ListMembership
from contacts.services.fields import field_create
from contacts.typed_values import typed_values_refresh
from tests.factories import AccountFactory, make_api_key

pytestmark = pytest.mark.django_db

RULES = {
    "all": [
        {"field": "fields.points", "op": "gt", "value": 100},
        {"any": [{"field": "city", "op": "in", "value": ["Paris", "lyon"]}]},
    ]
}


@pytest.fixture
def base(account):
    field_create(account=account, key="points", label="Points", type="number")
    rows = [("a@x.fr", "Paris", 150), ("b@x.fr", "Lyon", 50), ("c@x.fr", "LYON", 300),
            ("d@x.fr", "Nice", 500)]  # fmt: skip
    contacts = [
        Contact.objects.create(
            account=account, key=email, email=email, city=city, fields={"points": points}
        )
        for email, city, points in rows
    ]
    # Written with the ORM, not a contact service: derive the typed copies as services do.
    typed_values_refresh(account.pk)
    return contacts


def test_crud_count_contacts_and_preview(api_client, base):
    created = api_client.post("/api/v1/segments/", {"name": "Gros clients", "rules": RULES})
    assert created.status_code == 201, created.json()
    segment_id = created.json()["id"]
    assert created.json()["rules"]["all"][0]["value"] == 100
    assert api_client.get(f"/api/v1/segments/{segment_id}/count/").json() == {"count": 2}
    emails = [c["email"] for c in api_client.get(f"/api/v1/segments/{segment_id}/contacts/")
              .json()["results"]]  # fmt: skip
    assert sorted(emails) == ["a@x.fr", "c@x.fr"]
    preview = api_client.post(
        "/api/v1/segments/preview/",
        {"rules": {"any": [{"field": "city", "op": "eq", "value": "nice"}]}},
    )
    assert preview.json() == {"count": 1}
    changed = api_client.patch(
        f"/api/v1/segments/{segment_id}/",
        {"rules": {"all": [{"field": "fields.points", "op": "gte", "value": 300}]}},
    )
    assert changed.status_code == 200
    # the count cache is keyed on the segment's version: an edit shows at once
    assert api_client.get(f"/api/v1/segments/{segment_id}/count/").json() == {"count": 2}
    assert api_client.delete(f"/api/v1/segments/{segment_id}/").status_code == 204
    assert Contact.objects.count() == 4


def test_bad_rules_are_400_with_the_path(api_client, base):
    response = api_client.post(
        "/api/v1/segments/",
        {"name": "x", "rules": {"all": [{"any": [{"field": "city", "op": "gt", "value": 1}]}]}},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["rules.all[0].any[0]"]
    preview = api_client.post("/api/v1/segments/preview/", {"rules": {"nope": []}})
    assert preview.status_code == 400


def test_list_condition_and_export_by_segment(api_client, account, base):
    vip = ContactList.objects.create(account=account, name="VIP")
    ListMembership.objects.create(contact_list=vip, contact=base[3])
    segment_id = api_client.post(
        "/api/v1/segments/",
        {"name": "VIP", "rules": {"all": [{"field": "list", "op": "in_list", "value": vip.pk}]}},
    ).json()["id"]
    response = api_client.get(f"/api/v1/exports/contacts/?segment={segment_id}&fields=email")
    content = b"".join(response.streaming_content).decode("utf-8-sig").split()
    assert content == ["email", "d@x.fr"]


def test_a_segment_on_a_deleted_field_is_out_of_date_409_not_500(api_client, account, base):
    segment_id = api_client.post("/api/v1/segments/", {"name": "P", "rules": RULES}).json()["id"]
    field_id = api_client.get("/api/v1/fields/").json()[0]["id"]
    api_client.delete(f"/api/v1/fields/{field_id}/")
    for url in ("count/", "contacts/"):
        response = api_client.get(f"/api/v1/segments/{segment_id}/{url}")
        # the GET itself is fine: the saved rules no longer fit the account's fields
        assert response.status_code == 409
        assert response.json()["code"] == "segment_out_of_date"
        assert "unknown field" in str(response.json()["fields"]["rules.all[0]"])


def test_segments_of_another_account_are_404(api_client, base):
    segment_id = api_client.post("/api/v1/segments/", {"name": "S", "rules": RULES}).json()["id"]
    from rest_framework.test import APIClient

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(AccountFactory())[1]}")
    for url in ["", "count/", "contacts/"]:
        assert other.get(f"/api/v1/segments/{segment_id}/{url}").status_code == 404
    assert other.delete(f"/api/v1/segments/{segment_id}/").status_code == 404
    assert other.get(f"/api/v1/exports/contacts/?segment={segment_id}").status_code == 404
    # and another account's list id names no list of this account: a 404, as in a URL
    their_list = ContactList.objects.create(account=AccountFactory(), name="Theirs")
    response = api_client.post(
        "/api/v1/segments/preview/",
        {"rules": {"all": [{"field": "list", "op": "in_list", "value": their_list.pk}]}},
    )
    assert response.status_code == 404
    assert "rules.all[0]" in response.json()["fields"]


def test_preview_page_for_the_builder(logged_in_client, base):
    response = logged_in_client.post(
        "/contacts/segments/preview/", {"rules": RULES}, content_type="application/json"
    )
    assert response.json() == {"count": 2}
    bad = logged_in_client.post(
        "/contacts/segments/preview/",
        {"rules": {"all": [{"field": "zz", "op": "eq", "value": 1}]}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "all[0]" in bad.json()["errors"]


def preview(api_client, *conditions):
    return api_client.post("/api/v1/segments/preview/", {"rules": {"all": list(conditions)}})


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "fields.points", "op": "gt", "value": "100"},  # a number is a JSON number
        {"field": "city", "op": "gt", "value": 1},  # no such operator for a text field
        {"field": "city", "op": "eq", "value": 12},  # text is a JSON string
        {"field": "city", "op": "eq", "value": "a\x00b"},  # NUL: PostgreSQL cannot store it
        {"field": "city", "op": "is_empty", "value": "x"},  # this operator takes no value
        {"field": "birth_date", "op": "on", "value": "14/07/1985"},  # ISO dates in the API
        {"field": "birth_date", "op": "within_last_days", "value": 3.0},
        {"field": "salutation", "op": "any_of", "value": ["MR"]},  # the enum, exactly
        {"field": "fields.Points", "op": "gt", "value": 1},  # not a field key
        {"field": "email_activity", "op": "opened", "value": {"days": 0}},
        {"field": "list", "op": "in_list", "value": 0},
        {"field": "city", "op": "eq", "value": "x", "extra": 1},
    ],
)
def test_a_rule_the_schema_refuses_is_a_400_naming_the_node(api_client, base, condition):
    response = preview(api_client, {"field": "city", "op": "eq", "value": "Paris"}, condition)

    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["rules.all[1]"]


def test_a_rule_naming_what_the_account_does_not_have_is_a_404(api_client, base):
    for condition in (
        {"field": "fields.nope", "op": "eq", "value": "x"},
        {"field": "list", "op": "in_list", "value": 2**63 - 1},
        {"field": "email_activity", "op": "opened", "value": {"campaign": 2**63 - 1}},
    ):
        response = preview(api_client, condition)
        assert response.status_code == 404, (condition, response.content)
        assert list(response.json()["fields"]) == ["rules.all[0]"]
    # a malformed node beside it makes the whole rule a 400
    both = preview(api_client, {"field": "fields.nope", "op": "eq", "value": "x"}, {"all": 1})
    assert both.status_code == 400


def test_a_condition_its_custom_field_does_not_take_is_a_409(api_client, account, base):
    field_create(account=account, key="shop", label="Shop", type="choice", choices=["Paris"])
    for condition in (
        {"field": "fields.points", "op": "contains", "value": "1"},  # a number field
        {"field": "fields.points", "op": "eq", "value": "many"},
        {"field": "fields.points", "op": "on", "value": "2024-01-01"},
        {"field": "fields.shop", "op": "any_of", "value": ["Lyon"]},  # not one of its choices
    ):
        response = preview(api_client, condition)
        assert response.status_code == 409, (condition, response.content)
        assert response.json()["code"] == "does_not_fit_field"
    # what the schema allows and the field takes is accepted, leniently where it can be
    assert preview(api_client, {"field": "fields.points", "op": "eq", "value": "150"}).json() == {
        "count": 1
    }
    ok = preview(
        api_client,
        {"field": "fields.points", "op": "between", "value": [100, 400]},
        {"field": "fields.points", "op": "is_not_empty", "value": None},
        {"field": "email_activity", "op": "not_opened"},
    )
    assert ok.json() == {"count": 2}


def test_the_rule_schema_lists_every_operator_of_the_rule_language(client):
    from contacts.segments.language import OPERATORS_BY_TYPE, REGISTRY

    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    kinds = schema["SegmentCondition"]["oneOf"]
    published = {op for kind in kinds for op in kind["properties"]["op"]["enum"]}
    language = {op for ops in OPERATORS_BY_TYPE.values() for op in ops}
    language |= {op for condition in REGISTRY.values() for op in condition.operators}
    assert published == language
    # groups nest as deep as the language allows, and no deeper
    assert "SegmentRuleGroup4" in schema and "SegmentRuleGroup5" not in schema
    deepest = schema["SegmentRuleGroup4"]["properties"]["all"]["items"]
    assert deepest == {"$ref": "#/components/schemas/SegmentCondition"}
