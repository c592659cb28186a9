"""The import report counts rejected rows (not errors), lists every error of each row, and gives
the rejected rows to French Excel as well as to machines."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.imports.services import import_configure, import_create, import_run, import_start
from contacts.models import ContactImport
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# 10 rows: 6 new, 1 already known, 3 rejected (row 9 has two bad values: 4 errors in all).
FILE = (
    "E-mail;Prénom;Date de naissance\n"
    "a@exemple.fr;Élodie;14/07/1985\n"
    "b@exemple.fr;Zoé;\n"
    "c@exemple.fr;Jérôme;\n"
    "d@exemple.fr;Anaïs;\n"
    "pas-un-email;Bad;\n"
    "e@exemple.fr;Noël;\n"
    "f@exemple.fr;Hélène;\n"
    "aussi-pas-un-email;Bad;31/02/2024\n"
    "g@exemple.fr;Date;32/13/1990\n"
    "known@exemple.fr;Connu;\n"
).encode()


@pytest.fixture
def done_import(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    account.language = "fr"
    account.save(update_fields=["language"])
    ContactFactory(account=account, email="known@exemple.fr")
    contact_import = import_create(
        account=account, uploaded_file=SimpleUploadedFile("salon.csv", FILE)
    )
    import_configure(contact_import=contact_import, mapping=contact_import.mapping)
    import_start(contact_import=contact_import)
    return import_run(import_id=contact_import.pk)


def test_rejected_counts_rows_and_the_counts_add_up(done_import):
    assert done_import.status == ContactImport.Status.DONE
    counts = (
        done_import.created_count,
        done_import.updated_count,
        done_import.skipped_count,
        done_import.error_count,
    )
    assert counts == (6, 1, 0, 3)
    assert sum(counts) == done_import.processed_rows == done_import.total_rows == 10


def test_the_technical_report_has_one_line_per_error(done_import):
    with done_import.error_report.open("rb") as handle:
        text = handle.read().decode("utf-8")
    assert not text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["row", "column", "error", "E-mail", "Prénom", "Date de naissance"]
    assert [(line[0], line[1]) for line in lines[1:]] == [
        ("6", "E-mail"),
        ("9", "E-mail"),
        ("9", "Date de naissance"),
        ("10", "Date de naissance"),
    ]


def test_the_page_lists_each_rejected_row_with_all_its_errors(logged_in_client, done_import):
    page = logged_in_client.get(f"/contacts/imports/{done_import.pk}/").content.decode()
    assert 'data-testid="import-rejected">3<' in page
    assert "Créés :" in page and "Créée le" not in page
    assert "3 lignes rejetées" in page
    assert page.count('data-testid="rejected-row"') == 3
    row_nine = page.split('data-testid="rejected-row"><td>9</td>')[1].split("</tr>")[0]
    assert "E-mail" in row_nine and "Date de naissance" in row_nine


def test_excel_france_rejects_one_line_per_row_with_bom_and_semicolons(
    logged_in_client, done_import
):
    response = logged_in_client.get(f"/contacts/imports/{done_import.pk}/errors.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Ligne", "Erreurs", "E-mail", "Prénom", "Date de naissance"]
    assert [row[0] for row in rows[1:]] == ["6", "9", "10"]
    errors_of_nine = rows[2][1]
    assert errors_of_nine.startswith("E-mail : ") and " ; Date de naissance : " in errors_of_nine
    assert rows[2][2:] == ["aussi-pas-un-email", "Bad", "31/02/2024"]
    technical = logged_in_client.get(f"/contacts/imports/{done_import.pk}/errors.csv?format=csv")
    assert b"".join(technical.streaming_content).startswith(b"row,column,error,")
    assert (
        logged_in_client.get(
            f"/contacts/imports/{done_import.pk}/errors.csv?format=pdf"
        ).status_code
        == 404
    )


def test_api_offers_both_formats_and_refuses_others(api_client, done_import):
    url = f"/api/v1/imports/{done_import.pk}/errors/"
    assert b"".join(api_client.get(url).streaming_content).startswith(b"row,column,error,")
    excel = b"".join(api_client.get(url, {"format": "excel_fr"}).streaming_content)
    assert excel.startswith("\ufeffLigne;Erreurs;".encode())
    refused = api_client.get(url, {"format": "xls"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    detail = api_client.get(f"/api/v1/imports/{done_import.pk}/").json()
    assert detail["error_count"] == 3


def test_another_accounts_rejects_are_404(client, done_import):
    from tests.factories import AccountFactory, MembershipFactory

    stranger = MembershipFactory(account=AccountFactory()).user
    client.force_login(stranger)
    assert client.get(f"/contacts/imports/{done_import.pk}/errors.csv").status_code == 404


def test_a_report_written_before_the_technical_format_still_downloads(done_import):
    """Reports stored by earlier versions: BOM, `;`, one line per error, translated header."""
    from django.core.files.base import ContentFile

    from contacts.imports.report import rejected_rows

    legacy = "\ufeffligne;colonne;erreur;E-mail\r\n5;E-mail;adresse invalide : x;x\r\n"
    done_import.error_report.save("legacy.csv", ContentFile(legacy.encode()), save=True)
    (row,) = rejected_rows(done_import)
    assert (row.number, row.errors, row.cells) == (5, [("E-mail", "adresse invalide : x")], ["x"])
