import pytest

from contacts.models import Contact, ContactList, ListMembership
from contacts.services.fields import field_create
from contacts.typed_values import typed_values_refresh
from tests.factories import AccountFactory, make_api_key

pytestmark = pytest.mark.django_db

RULES = {
    "all": [
        {"field": "fields.points", "op": "gt", "value": "100"},
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
    assert created.json()["rules"]["all"][0]["value"] == 100  # normalised to a number
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


def test_a_segment_on_a_deleted_field_answers_400_not_500(api_client, account, base):
    segment_id = api_client.post("/api/v1/segments/", {"name": "P", "rules": RULES}).json()["id"]
    field_id = api_client.get("/api/v1/fields/").json()[0]["id"]
    api_client.delete(f"/api/v1/fields/{field_id}/")
    response = api_client.get(f"/api/v1/segments/{segment_id}/count/")
    assert response.status_code == 400
    assert "unknown field" in str(response.json()["fields"])


def test_segments_of_another_account_are_404(api_client, base):
    segment_id = api_client.post("/api/v1/segments/", {"name": "S", "rules": RULES}).json()["id"]
    from rest_framework.test import APIClient

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(AccountFactory())[1]}")
    for url in ["", "count/", "contacts/"]:
        assert other.get(f"/api/v1/segments/{segment_id}/{url}").status_code == 404
    assert other.delete(f"/api/v1/segments/{segment_id}/").status_code == 404
    assert other.get(f"/api/v1/exports/contacts/?segment={segment_id}").status_code == 404
    # and another account's list id is not a valid condition value
    their_list = ContactList.objects.create(account=AccountFactory(), name="Theirs")
    response = api_client.post(
        "/api/v1/segments/preview/",
        {"rules": {"all": [{"field": "list", "op": "in_list", "value": their_list.pk}]}},
    )
    assert response.status_code == 400


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
