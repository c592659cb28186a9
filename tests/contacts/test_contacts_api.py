import pytest

from contacts.models import ConsentRecord, Contact, ContactList, Suppression, address_hash
from tests.factories import AccountFactory, make_api_key

pytestmark = pytest.mark.django_db


def other_client():
    from rest_framework.test import APIClient

    _key, plaintext = make_api_key(AccountFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_create_normalises_every_value(api_client, custom_fields):
    response = api_client.post(
        "/api/v1/contacts/",
        {
            "email": "  Marie.Dupont@EXEMPLE.fr ",
            "mobile": "06 12 34 56 78",
            "salutation": "Mme",
            "first_name": "Marie",
            "birth_date": "14/07/1985",
            "fields": {
                "points": "1 250",
                "spent": "12,50",
                "last_order": "03/01/2024",
                "shop": "paris",
                "vip": "oui",
            },
            "email_status": "subscribed",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "marie.dupont@exemple.fr"
    assert body["mobile"] == "+33612345678"
    assert body["salutation"] == "mrs"
    assert body["birth_date"] == "1985-07-14"
    assert body["fields"] == {
        "points": 1250,
        "spent": 12.5,
        "last_order": "2024-01-03",
        "shop": "Paris",
        "vip": True,
    }
    assert body["email_status"] == "subscribed"
    record = ConsentRecord.objects.get(contact_id=body["id"])
    assert (record.channel, record.status, record.source) == ("email", "subscribed", "api")


def test_bad_values_are_400_naming_each_field(api_client, custom_fields):
    response = api_client.post(
        "/api/v1/contacts/",
        {
            "email": "not-an-email",
            "birth_date": "31/02/2024",
            "fields": {"points": "12,5", "nope": "x"},
        },
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"email", "birth_date", "fields.points", "fields.nope"}
    assert "31/02/2024" in fields["birth_date"][0]
    assert Contact.objects.count() == 0


def test_create_conflicts_and_upsert_updates(api_client):
    first = api_client.post("/api/v1/contacts/", {"email": "a@example.com", "first_name": "A"})
    again = api_client.post("/api/v1/contacts/", {"email": "A@example.com"})
    assert again.status_code == 409
    upserted = api_client.post(
        "/api/v1/contacts/upsert/", {"email": "A@EXAMPLE.COM", "last_name": "Martin"}
    )
    assert upserted.status_code == 200
    assert upserted.json()["id"] == first.json()["id"]
    assert upserted.json()["first_name"] == "A" and upserted.json()["last_name"] == "Martin"
    created = api_client.post("/api/v1/contacts/upsert/", {"email": "b@example.com"})
    assert created.status_code == 201


def test_patch_changes_and_clears_fields(api_client, custom_fields):
    contact_id = api_client.post(
        "/api/v1/contacts/", {"email": "a@example.com", "city": "Lyon", "fields": {"points": 3}}
    ).json()["id"]
    response = api_client.patch(
        f"/api/v1/contacts/{contact_id}/", {"city": None, "fields": {"points": ""}}
    )
    assert response.status_code == 200
    assert response.json()["city"] == "" and response.json()["fields"] == {}


def test_bulk_upsert_reports_each_row_and_keeps_good_rows(api_client, account):
    api_client.post("/api/v1/contacts/", {"email": "known@example.com"})
    contact_list = ContactList.objects.create(account=account, name="Newsletter")
    response = api_client.post(
        "/api/v1/contacts/bulk/",
        {
            "list_id": contact_list.pk,
            "contacts": [
                {"email": "new@example.com"},
                {"email": "known@example.com", "first_name": "K"},
                {"email": "broken"},
                {"first_name": "no key"},
            ],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["errors"]) == (1, 1, 2)
    assert [r["status"] for r in body["results"]] == ["created", "updated", "error", "error"]
    assert "email" in body["results"][3]["errors"]
    assert contact_list.members.count() == 2


def test_bulk_refuses_more_than_1000_rows(api_client):
    rows = [{"email": f"u{i}@example.com"} for i in range(1001)]
    response = api_client.post("/api/v1/contacts/bulk/", {"contacts": rows})
    assert response.status_code == 400
    assert Contact.objects.count() == 0


def test_search_and_filters(api_client):
    api_client.post("/api/v1/contacts/", {"email": "paul@example.com", "last_name": "Durand"})
    api_client.post("/api/v1/contacts/", {"email": "zoe@example.com", "email_status": "subscribed"})
    found = api_client.get("/api/v1/contacts/?q=durand").json()["results"]
    assert [c["email"] for c in found] == ["paul@example.com"]
    subscribed = api_client.get("/api/v1/contacts/?email_status=subscribed").json()["results"]
    assert [c["email"] for c in subscribed] == ["zoe@example.com"]


def test_unsubscribe_is_final_for_imports_and_api(api_client, account):
    contact_id = api_client.post(
        "/api/v1/contacts/", {"email": "x@example.com", "email_status": "subscribed"}
    ).json()["id"]
    unsub = api_client.post(
        f"/api/v1/contacts/{contact_id}/consent/", {"channel": "email", "status": "unsubscribed"}
    )
    assert unsub.json()["email_status"] == "unsubscribed"
    again = api_client.post(
        "/api/v1/contacts/upsert/", {"email": "x@example.com", "email_status": "subscribed"}
    )
    assert again.json()["email_status"] == "unsubscribed"
    history = api_client.get(f"/api/v1/contacts/{contact_id}/consent/").json()
    # newest first; the refused re-subscription changed nothing, so it added no record
    assert [r["status"] for r in history] == ["unsubscribed", "subscribed"]


def test_sms_consent_of_a_contact_without_mobile_is_a_409_naming_the_channel(api_client):
    # the request is valid; the contact's state (no mobile) forbids it (found by schemathesis)
    contact_id = api_client.post("/api/v1/contacts/", {"email": "x@example.com"}).json()["id"]

    response = api_client.post(
        f"/api/v1/contacts/{contact_id}/consent/", {"channel": "sms", "status": "subscribed"}
    )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "conflict"
    assert list(response.json()["fields"]) == ["channel"]


def test_erasure_keeps_only_a_hash_and_blocks_resubscription(api_client, account):
    contact_id = api_client.post(
        "/api/v1/contacts/",
        {"email": "gone@example.com", "mobile": "0612345678", "email_status": "subscribed"},
    ).json()["id"]
    assert api_client.post(f"/api/v1/contacts/{contact_id}/erase/").status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()
    assert Suppression.objects.filter(
        account=account, address_hash=address_hash("gone@example.com"), reason="erased"
    ).exists()
    assert not ConsentRecord.objects.filter(user_agent__contains="gone@").exists()
    back = api_client.post(
        "/api/v1/contacts/", {"email": "gone@example.com", "email_status": "subscribed"}
    )
    assert back.status_code == 201
    assert back.json()["email_status"] == "unsubscribed"


def test_gdpr_export_holds_everything(api_client, account):
    contact_id = api_client.post(
        "/api/v1/contacts/", {"email": "me@example.com", "email_status": "subscribed"}
    ).json()["id"]
    data = api_client.get(f"/api/v1/contacts/{contact_id}/gdpr-export/").json()
    assert data["contact"]["email"] == "me@example.com"
    assert data["consent_history"][0]["status"] == "subscribed"


def test_double_optin_sends_a_signed_link_that_confirms(api_client, client, mailoutbox):
    contact_id = api_client.post("/api/v1/contacts/", {"email": "new@example.com"}).json()["id"]
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client.post(f"/api/v1/contacts/{contact_id}/double-optin/")
    assert response.json()["email_status"] == "pending"
    link = next(w for w in mailoutbox[0].body.split() if "/contacts/confirm/" in w)
    path = "/" + link.split("/", 3)[3]
    assert client.get(path[:-3] + "xyz/").status_code == 400
    assert client.get(path).status_code == 200
    assert Contact.objects.get(pk=contact_id).email_status == "subscribed"


def test_lists_crud_members_and_counts(api_client):
    list_id = api_client.post("/api/v1/lists/", {"name": "VIP"}).json()["id"]
    assert api_client.post("/api/v1/lists/", {"name": "VIP"}).status_code == 409
    ids = [
        api_client.post("/api/v1/contacts/", {"email": f"m{i}@example.com"}).json()["id"]
        for i in range(3)
    ]
    assert api_client.post(f"/api/v1/lists/{list_id}/members/", {"contact_ids": ids}).json() == {
        "added": 3
    }
    assert api_client.get(f"/api/v1/lists/{list_id}/").json()["member_count"] == 3
    removed = api_client.post(f"/api/v1/lists/{list_id}/members/remove/", {"contact_ids": ids[:1]})
    assert removed.json() == {"removed": 1}
    members = api_client.get(f"/api/v1/lists/{list_id}/members/").json()["results"]
    assert len(members) == 2
    assert api_client.patch(f"/api/v1/lists/{list_id}/", {"name": "Gold"}).json()["name"] == "Gold"
    assert api_client.delete(f"/api/v1/lists/{list_id}/").status_code == 204
    assert Contact.objects.count() == 3


def test_fields_crud_type_change_and_delete(api_client, account):
    created = api_client.post("/api/v1/fields/", {"key": "size", "label": "Taille", "type": "text"})
    assert created.status_code == 201
    field_id = created.json()["id"]
    assert (
        api_client.post(
            "/api/v1/fields/", {"key": "email", "label": "x", "type": "text"}
        ).status_code
        == 409
    )
    api_client.post("/api/v1/contacts/", {"email": "a@example.com", "fields": {"size": "42"}})
    api_client.post("/api/v1/contacts/", {"email": "b@example.com", "fields": {"size": "XL"}})
    refused = api_client.patch(f"/api/v1/fields/{field_id}/", {"type": "number"})
    assert refused.status_code == 400
    assert "1 stored values" in refused.json()["fields"]["type"][0]
    assert "XL" in refused.json()["fields"]["type"][1]
    api_client.post("/api/v1/contacts/upsert/", {"email": "b@example.com", "fields": {"size": ""}})
    accepted = api_client.patch(f"/api/v1/fields/{field_id}/", {"type": "number"})
    assert accepted.status_code == 200
    assert Contact.objects.get(email="a@example.com").fields == {"size": 42}
    assert api_client.delete(f"/api/v1/fields/{field_id}/").status_code == 204
    assert Contact.objects.get(email="a@example.com").fields == {}


def test_another_accounts_objects_are_404(api_client, account):
    contact_id = api_client.post("/api/v1/contacts/", {"email": "mine@example.com"}).json()["id"]
    list_id = api_client.post("/api/v1/lists/", {"name": "Mine"}).json()["id"]
    field_id = api_client.post(
        "/api/v1/fields/", {"key": "k", "label": "K", "type": "text"}
    ).json()["id"]
    stranger = other_client()
    for url in [
        f"/api/v1/contacts/{contact_id}/",
        f"/api/v1/contacts/{contact_id}/consent/",
        f"/api/v1/contacts/{contact_id}/gdpr-export/",
        f"/api/v1/lists/{list_id}/",
        f"/api/v1/lists/{list_id}/members/",
        f"/api/v1/fields/{field_id}/",
    ]:
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/api/v1/contacts/{contact_id}/erase/").status_code == 404
    assert stranger.delete(f"/api/v1/lists/{list_id}/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/lists/{list_id}/members/", {"contact_ids": [contact_id]}
        ).status_code
        == 404
    )
    # a stranger's list cannot pull in my contact either
    their_list = stranger.post("/api/v1/lists/", {"name": "Theirs"}).json()["id"]
    added = stranger.post(f"/api/v1/lists/{their_list}/members/", {"contact_ids": [contact_id]})
    assert added.json() == {"added": 0}
    assert stranger.get("/api/v1/contacts/").json()["results"] == []
    assert Contact.objects.filter(pk=contact_id).exists()


def test_export_csv_escapes_formulas_and_filters_by_list(api_client, account):
    api_client.post("/api/v1/contacts/", {"email": "a@example.com", "first_name": "=HYPERLINK()"})
    api_client.post("/api/v1/contacts/", {"email": "b@example.com", "first_name": "+33"})
    response = api_client.get("/api/v1/exports/contacts/?fields=email,first_name")
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = content.strip().splitlines()
    assert lines[0] == "email;first_name"
    assert "b@example.com;'+33" in lines
    assert "a@example.com;'=HYPERLINK()" in lines
    bad = api_client.get("/api/v1/exports/contacts/?fields=email,password")
    assert bad.status_code == 400


def test_export_xlsx(api_client):
    import io

    from openpyxl import load_workbook

    api_client.post("/api/v1/contacts/", {"email": "a@example.com", "last_name": "@risk"})
    response = api_client.get("/api/v1/exports/contacts/?format=xlsx&fields=email,last_name")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.values)
    assert rows == [("email", "last_name"), ("a@example.com", "'@risk")]


def test_contacts_list_query_count_is_flat(api_client, django_assert_max_num_queries):
    for index in range(20):
        api_client.post("/api/v1/contacts/", {"email": f"q{index}@example.com"})
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/contacts/").json()["results"]) == 20
