"""The contact export for French Excel: BOM, `;`, labels as headers, dd/mm/yyyy dates, words for
consents; the technical CSV keeps keys, ISO dates and codes."""

import csv
import io
from datetime import date

import pytest

from contacts.services.fields import field_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def base(account):
    account.language = "fr"
    account.save(update_fields=["language"])
    field_create(account=account, key="last_order", label="Dernière commande", type="date")
    field_create(account=account, key="spent", label="Montant", type="decimal")
    field_create(account=account, key="vip", label="VIP", type="boolean")
    ContactFactory(
        account=account,
        email="elodie@exemple.fr",
        first_name="Élodie",
        salutation="mrs",
        birth_date=date(1985, 7, 14),
        email_status="subscribed",
        sms_status="unsubscribed",
        fields={"last_order": "2026-03-02", "spent": 12.5, "vip": True},
    )
    ContactFactory(account=account, email="formula@exemple.fr", first_name="=1+1")
    return account


def rows_of(response, *, delimiter=";"):
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def test_excel_france_export_through_the_api(api_client, base):
    columns = (
        "email,first_name,salutation,birth_date,email_status,sms_status,"
        "fields.last_order,fields.spent,fields.vip"
    )
    response = api_client.get(
        "/api/v1/exports/contacts/", {"format": "excel_fr", "fields": columns}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body, rows = rows_of(response)
    assert body.startswith("\ufeff".encode()) and b"\r\n" in body
    assert rows[0] == [
        "E-mail", "Prénom", "Civilité", "Date de naissance", "Consentement e-mail",
        "Consentement SMS", "Dernière commande", "Montant", "VIP",
    ]  # fmt: skip
    assert rows[1] == [
        "elodie@exemple.fr", "Élodie", "Mme", "14/07/1985", "Inscrit", "Désinscrit",
        "02/03/2026", "12,5", "Oui",
    ]  # fmt: skip
    assert rows[2][1] == "'=1+1"  # formulas stay neutralised


def test_the_technical_csv_stays_for_machines(api_client, base):
    response = api_client.get(
        "/api/v1/exports/contacts/", {"fields": "email,birth_date,email_status,fields.spent"}
    )
    _body, rows = rows_of(response)
    assert rows[0] == ["email", "birth_date", "email_status", "fields.spent"]
    assert rows[1] == ["elodie@exemple.fr", "1985-07-14", "subscribed", "12.5"]


def test_an_unknown_format_is_a_400(api_client, base):
    response = api_client.get("/api/v1/exports/contacts/", {"format": "xls"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_the_export_page_offers_excel_france_first(logged_in_client, base):
    page = logged_in_client.get("/contacts/export/").content.decode()
    assert page.index("Excel (France)") < page.index("CSV technique")
    response = logged_in_client.get(
        "/contacts/export/", {"format": "excel_fr", "columns": ["email", "email_status"]}
    )
    _body, rows = rows_of(response)
    assert rows[0] == ["E-mail", "Consentement e-mail"]
    assert ["elodie@exemple.fr", "Inscrit"] in rows


def test_the_schema_documents_the_formats_as_an_enum(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    export = schema["paths"]["/api/v1/exports/contacts/"]["get"]
    (fmt,) = [p for p in export["parameters"] if p["name"] == "format"]
    assert fmt["schema"]["enum"] == ["csv", "excel_fr", "xlsx"]
    errors = schema["paths"]["/api/v1/imports/{id}/errors/"]["get"]
    (fmt,) = [p for p in errors["parameters"] if p["name"] == "format"]
    assert fmt["schema"]["enum"] == ["csv", "excel_fr"]
