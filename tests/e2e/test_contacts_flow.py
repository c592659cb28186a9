"""A marketer's main paths through the contact base, in headless Chromium, with a real Celery
worker running the import."""

import csv
import re

import pytest

from contacts.models import Contact
from contacts.services.fields import field_create
from tests.contacts.test_imports import FRENCH_EXCEL_CSV

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_import_wizard_end_to_end(
    logged_in_page, live_server, account, celery_worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    field_create(account=account, key="points", label="Points", type="number")
    page = logged_in_page
    source = tmp_path / "clients-salon.csv"
    source.write_bytes(FRENCH_EXCEL_CSV)

    # step 1: upload
    page.goto("/contacts/imports/")
    page.get_by_label("Fichier CSV ou Excel").set_input_files(str(source))
    page.get_by_role("button", name="Téléverser et analyser").click()

    # step 2: the proposed mapping, options
    page.wait_for_url(re.compile(r"/contacts/imports/\d+/mapping/"))
    assert page.get_by_label("E-mail", exact=True).input_value() == "email"
    assert page.get_by_label("Téléphone portable").input_value() == "mobile"
    assert page.get_by_label("Points", exact=True).input_value() == "points"
    page.get_by_label("Consentement e-mail de ces contacts").select_option("subscribed")
    page.get_by_label("Comment ont-ils consenti ?").fill("Formulaire du salon, mars 2024")
    page.get_by_role("button", name="Lancer l'import").click()

    # step 3: progress reaches 100 % (the page polls while the worker runs)
    page.wait_for_url(re.compile(r"/contacts/imports/\d+/$"))
    page.get_by_test_id("import-percent").filter(has_text="100 %").wait_for(timeout=60_000)
    assert page.get_by_test_id("import-created").inner_text() == "3"
    assert page.get_by_test_id("import-rejected").inner_text() == "5"

    # the report of rejected rows downloads with row numbers, columns and reasons
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile("Télécharger les lignes rejetées")).click()
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(report.splitlines(), delimiter=";"))
    assert rows[0][:2] == ["Ligne", "Erreurs"]  # Excel (France): one line per rejected row
    assert [row[0] for row in rows[1:]] == ["5", "6", "7", "8", "9"]
    assert rows[2][1].startswith("Date de naissance : ")
    assert page.get_by_test_id("rejected-row").count() == 5

    # the contacts are there, searchable
    page.get_by_role("link", name="Voir les contacts").click()
    page.get_by_role("searchbox").fill("zoe@")
    page.get_by_test_id("contact-row").filter(has_text="zoe@exemple.fr").wait_for()
    assert Contact.objects.get(email="zoe@exemple.fr").email_status == "subscribed"


def test_fields_lists_contact_page_and_export(logged_in_page, live_server, account):
    page = logged_in_page
    # a custom field
    page.goto("/contacts/fields/")
    page.get_by_label("Libellé").fill("Points fidélité")
    page.get_by_label("Clé").fill("points")
    page.get_by_label("Type").select_option("number")
    page.get_by_role("button", name="Ajouter le champ").click()
    page.get_by_test_id("field-row").filter(has_text="points").wait_for()

    # a list
    page.goto("/contacts/lists/")
    page.get_by_label("Nom").fill("Clients VIP")
    page.get_by_role("button", name="Créer la liste").click()
    page.get_by_test_id("list-row").filter(has_text="Clients VIP").wait_for()

    # a contact, with a bad value first
    page.goto("/contacts/new/")
    page.get_by_label("E-mail", exact=True).fill("Paul.Martin@Exemple.FR")
    page.get_by_label("Portable").fill("06 12 34 56 78")
    page.get_by_label("Date de naissance").fill("31/02/1980")
    page.get_by_label("Points fidélité").fill("1 200")
    page.get_by_role("button", name="Enregistrer").click()
    assert "31/02/1980" in page.locator(".field-error").first.inner_text()
    page.get_by_label("Date de naissance").fill("29/02/1980")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    assert page.get_by_label("E-mail", exact=True).input_value() == "paul.martin@exemple.fr"
    assert page.get_by_label("Portable").input_value() == "+33612345678"

    # into the list, from the contact page
    page.get_by_role("button", name="Ajouter à la liste").click()
    page.get_by_role("link", name="Clients VIP").click()
    assert "paul.martin@exemple.fr" in page.content()

    # export for French Excel (the page's default): labels as headers
    page.goto("/contacts/export/")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger").click()
    exported = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "paul.martin@exemple.fr" in exported
    assert exported.splitlines()[0].startswith("E-mail;Portable;")
    # and the technical CSV, for machines
    page.get_by_label("CSV technique (clés, dates ISO)").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger").click()
    technical = download_info.value.path().read_text(encoding="utf-8-sig")
    assert technical.splitlines()[0].startswith("email;mobile;")
