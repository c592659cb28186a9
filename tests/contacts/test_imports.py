import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from contacts.imports.services import (
    ImportRefused,
    import_configure,
    import_create,
    import_run,
    import_start,
)
from contacts.models import ConsentRecord, Contact, ContactImport, Suppression
from contacts.services.consent import ConsentProof, consent_change
from tests.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db

FRENCH_EXCEL_CSV = (
    "Prénom;Nom;Civilité;E-mail;Téléphone portable;Code postal;Date de naissance;Points\r\n"
    "Zoé;Lefèvre;Mme;zoe@exemple.fr;06 12 34 56 78;75011;14/07/1985;1 250\r\n"
    "Jérôme;Noël;M.;JEROME@exemple.fr;07 56 78 90 12;69001;01/02/1990;12\r\n"
    "\r\n"
    "Bad;Email;M.;pas-un-email;;;;\r\n"
    "Bad;Date;Mme;date@exemple.fr;;;31/02/2024;\r\n"
    "Bad;Phone;M.;phone@exemple.fr;n'importe quoi;;;\r\n"
    "Bad;Points;M.;points@exemple.fr;;;;12,5\r\n"
    "Ragged;Row;M.;ragged@exemple.fr;;;;;extra;cells\r\n"
    "=cmd|' /C calc'!A0;Formula;M.;formula@exemple.fr;;;;\r\n"
    "Zoé;Lefèvre-Martin;Mme;zoe@exemple.fr;;;;\r\n"
).encode("cp1252")


def upload(account, content: bytes, name="contacts.csv"):
    return import_create(account=account, uploaded_file=SimpleUploadedFile(name, content))


def run(contact_import, **options):
    import_configure(contact_import=contact_import, mapping=contact_import.mapping, **options)
    import_start(contact_import=contact_import)
    return import_run(import_id=contact_import.pk)


def report_rows(contact_import):
    """The stored technical report: UTF-8 without BOM, `,`, one line per error."""
    with contact_import.error_report.open("rb") as handle:
        text = handle.read().decode("utf-8")
    assert not text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def points_field(account):
    from contacts.services.fields import field_create

    return field_create(account=account, key="points", label="Points", type="number")


def test_french_excel_file_end_to_end(account, points_field, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    newsletter = ContactListFactory(account=account, name="Newsletter")
    # when: uploaded
    contact_import = upload(account, FRENCH_EXCEL_CSV)
    # then: detected
    assert (contact_import.format, contact_import.encoding, contact_import.delimiter) == (
        "csv",
        "cp1252",
        ";",
    )
    assert contact_import.mapping == [
        "first_name", "last_name", "salutation", "email", "mobile", "zip_code", "birth_date",
        "points",
    ]  # fmt: skip
    # when: run
    done = run(
        contact_import,
        target_list=newsletter,
        email_status="subscribed",
        consent_wording="Case cochée sur le formulaire du salon, mars 2024",
    )
    # then
    assert done.status == ContactImport.Status.DONE
    assert done.total_rows == done.processed_rows == 9  # the empty line is not a row
    assert done.progress_percent == 100
    assert (done.created_count, done.updated_count, done.error_count) == (3, 1, 5)
    zoe = Contact.objects.get(account=account, email="zoe@exemple.fr")
    assert (zoe.first_name, zoe.last_name, zoe.salutation) == ("Zoé", "Lefèvre-Martin", "mrs")
    assert str(zoe.mobile) == "+33612345678"  # the duplicate row's empty cell did not clear it
    assert zoe.birth_date.isoformat() == "1985-07-14"
    assert zoe.fields == {"points": 1250}
    assert zoe.email_status == "subscribed"
    assert Contact.objects.get(email="jerome@exemple.fr").salutation == "mr"
    formula = Contact.objects.get(email="formula@exemple.fr")
    assert formula.first_name == "=cmd|' /C calc'!A0"  # stored verbatim, escaped on export
    record = ConsentRecord.objects.filter(contact=zoe).first()
    assert record.source == "import" and "salon" in record.wording
    assert newsletter.members.count() == 3
    errors = report_rows(done)
    assert errors[0][:3] == ["row", "column", "error"]  # technical: for machines
    by_row = {int(row[0]): (row[1], row[2]) for row in errors[1:]}
    assert by_row[5] == ("E-mail", "adresse e-mail invalide : pas-un-email")
    assert by_row[6][0] == "Date de naissance" and "31/02/2024" in by_row[6][1]
    assert by_row[7][0] == "Téléphone portable"
    assert by_row[8][0] == "Points"
    assert "10" in by_row[9][1] and "8" in by_row[9][1]  # ragged: 10 cells, header has 8


def test_xlsx_import(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Email", "First name", "Birth date", "Zip code"])
    import datetime

    sheet.append(["ann@example.com", "Ann", datetime.datetime(1990, 5, 17), 75011])
    sheet.append(["bob@example.com", "Bob", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    done = run(upload(account, buffer.getvalue(), name="export.xlsx"))
    assert done.created_count == 2 and done.error_count == 0
    ann = Contact.objects.get(email="ann@example.com")
    assert ann.birth_date.isoformat() == "1990-05-17" and ann.zip_code == "75011"


def test_reimporting_a_suppressed_address_never_resubscribes_it(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    run(upload(account, b"email\nx@example.com\n"), email_status="subscribed", consent_wording="w")
    contact = Contact.objects.get(email="x@example.com")
    consent_change(contact=contact, channel="email", status="unsubscribed", proof=ConsentProof())
    run(upload(account, b"email\nx@example.com\n"), email_status="subscribed", consent_wording="w")
    contact.refresh_from_db()
    assert contact.email_status == "unsubscribed"
    assert Suppression.objects.filter(account=account, reason="unsubscribed").count() == 1


@pytest.mark.parametrize(
    ("policy", "expected_names", "counts"),
    [
        ("update", {"old@example.com": "New", "fresh@example.com": "Fresh"}, (1, 1, 0)),
        ("skip", {"old@example.com": "Old", "fresh@example.com": "Fresh"}, (1, 0, 1)),
        ("update_only", {"old@example.com": "New"}, (0, 1, 1)),
    ],
)
def test_duplicate_policies(account, settings, tmp_path, policy, expected_names, counts):
    settings.MEDIA_ROOT = tmp_path
    ContactFactory(account=account, email="old@example.com", first_name="Old")
    content = b"email,first_name\nold@example.com,New\nfresh@example.com,Fresh\n"
    done = run(upload(account, content), duplicate_policy=policy)
    names = dict(Contact.objects.values_list("email", "first_name"))
    assert names == expected_names
    assert (done.created_count, done.updated_count, done.skipped_count) == counts


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"\n\n  \n", "blank.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "image.csv", "binary"),
        (b"email;first_name\n", "header.csv", "no data rows"),
    ],
)
def test_unreadable_files_are_refused_at_upload(
    account, settings, tmp_path, content, name, message
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ImportRefused) as error, translation.override("en"):
        upload(account, content, name=name)
    assert message in error.value.errors["file"].lower()
    assert ContactImport.objects.count() == 0


def test_mapping_must_name_the_contact_key_and_fit_the_columns(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contact_import = upload(account, b"email,name\na@example.com,A\n")
    with pytest.raises(ImportRefused) as error:
        import_configure(contact_import=contact_import, mapping=["first_name", None])
    assert "email" in error.value.errors["mapping"]
    with pytest.raises(ImportRefused):
        import_configure(contact_import=contact_import, mapping=["email"])
    with pytest.raises(ImportRefused):
        import_configure(contact_import=contact_import, mapping=["email", "email"])
    with pytest.raises(ImportRefused) as error:
        import_configure(
            contact_import=contact_import, mapping=["email", None], email_status="subscribed"
        )
    assert "consent_wording" in error.value.errors


def test_an_import_runs_once_even_if_the_task_is_delivered_twice(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contact_import = upload(account, b"email\na@example.com\n")
    done = run(contact_import)
    assert done.created_count == 1
    assert import_run(import_id=contact_import.pk) is None


def test_import_api_upload_start_progress_and_report(api_client, account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload_response = api_client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("c.csv", b"E-mail;Nom\na@example.com;A\nbad;B\n")},
        format="multipart",
    )
    assert upload_response.status_code == 201, upload_response.json()
    body = upload_response.json()
    assert body["mapping"] == ["email", "last_name"]
    started = api_client.post(f"/api/v1/imports/{body['id']}/start/", {"mapping": body["mapping"]})
    assert started.status_code == 202
    assert started.json()["status"] == "queued"
    import_run(import_id=body["id"])
    progress = api_client.get(f"/api/v1/imports/{body['id']}/").json()
    assert (progress["status"], progress["progress_percent"], progress["error_count"]) == (
        "done",
        100,
        1,
    )
    report = api_client.get(progress["error_report_url"])
    assert report.status_code == 200
    assert b"bad" in b"".join(report.streaming_content)
    refused = api_client.post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("e.csv", b"")}, format="multipart"
    )
    assert refused.status_code == 400 and "file" in refused.json()["fields"]
