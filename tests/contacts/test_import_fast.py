"""The PostgreSQL import path (contacts/services/postgres_engine.py) against the Python one.

Both must give the same contacts, ledger, suppressions, list memberships, counts and error
reports, whatever the file: the same messy file is imported into two identical accounts, once
through each path, and everything is compared. SQL cleaning expressions are also checked value
by value against contacts.normalization.
"""

import csv
import datetime
import io
import json
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from openpyxl import Workbook

from contacts.cleaning import ContactCleaner
from contacts.imports import postgres_engine, python_engine, sql_cleaning
from contacts.imports import services as import_services
from contacts.models import (
    ConsentRecord,
    Contact,
    ContactImport,
    ListMembership,
    Suppression,
    address_hash,
)
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert
from contacts.services.fields import field_create
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, ContactListFactory, ListMembershipFactory

pytestmark = [pytest.mark.django_db, requires_postgres]

EMAILS = [
    "zoe@exemple.fr", "ZOE@Exemple.FR", " jerome@exemple.fr ", "pas-un-email", "a@b", "x@@y.fr",
    "élodie@exemple.fr", "contact@exemple-é.fr", "info@bücher.de", "faß@exemple.fr", "a..b@c.fr",
    ".a@c.fr", "a.@c.fr", "a@-c.fr", "a@c-.fr", "a@c.f", "a@c.123", "=cmd@exemple.fr",
    "+plus@exemple.fr", "-minus@exemple.fr", "@at@exemple.fr", "sup1@exemple.fr", "sup2@exemple.fr",
    "old1@exemple.fr", "old2@exemple.fr", "OLD3@exemple.fr", "dup@exemple.fr", "dup@exemple.fr",
    "K\u212aelvin@exemple.fr", "user%tag@exemple.fr", "a_b-c+d@sous.domaine.exemple.co.uk",
    "x@" + "a" * 64 + ".fr", "x@" + "a" * 63 + ".fr", "",
]  # fmt: skip
PHONES = [
    "06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78",
    "06-12-34-56-78", "07 56 78 90 12", "01 23 45 67 89", "06 39 12 34 56", "0699123456",
    "n'importe quoi", "+32 470 12 34 56", "+1 415 555 2671", "612345678", "+33 (0)6 12 34 56 78",
    "06\u00a012\u00a034\u00a056\u00a078", "08 00 12 34 56", "09 12 34 56 78", "+44 7911 123456",
    "00 33 6 12 34 56 78", "+33612345678", "06 12 34 56 7", "", "",
]  # fmt: skip
DATES = [
    "14/07/1985", "31/02/2024", "29/02/2024", "29/02/2023", "2024-02-29", "1990-1-5", "1/2/1990",
    "01.02.1990", "01-02-1990", "01/02-1990", "12/05/85", "2024-13-01", "0000-01-01", "00/01/2000",
    "31/04/2020", "31/12/1999", "2024-W01-1", "demain", "1990-05-17", "", "",
]  # fmt: skip
NUMBERS = ["1 250", "12", "+7", "-3", "007", "12,5", "12,0", "1.234", "1,000", "x", "", "9" * 19]
DECIMALS = [
    "12,50", "1 234,56", "1.234,56", "1,234.56", "0,1", "-0,5", "-0,0", "1e3", "abc", ",5", "12.",
    "123456789012345,6", "1234567,891", "0.000001", "3", "", "",
]  # fmt: skip
TEXTS = [
    "Zoé", "Lefèvre", "=cmd|' /C calc'!A0", "+33 pas un tel", "-moins", "@arobase", "x" * 101,
    "Noël", "", "", "O'Brien", 'Dit "Jo"', "a;b", "multi\nligne",
]  # fmt: skip
SALUTATIONS = ["M.", "Mme", "mr", "MADAME", "Mlle.", "Dr", "", ""]
BOOLEANS = ["oui", "NON", "x", "Vrai", "peut-être", "", "1", "0"]
CHOICES = ["Paris", "paris", "Lyon", "Marseille", "", "LYON "]
MULTI = ["Paris;Lyon", "lyon", "; ;", "Nice", "", ""]

HEADER = [
    "E-mail", "Téléphone portable", "Civilité", "Prénom", "Nom", "Date de naissance",
    "Code postal", "Points", "Montant", "Dernière commande", "VIP", "Magasin", "Magasins",
    "Site", "Inscription", "Note",
]  # fmt: skip
MAPPING = [
    "email", "mobile", "salutation", "first_name", "last_name", "birth_date", "zip_code",
    "points", "spent", "last_order", "vip", "shop", "shops", "site", "signed_up", "note",
]  # fmt: skip


# Per column: values that clean (most rows) and the full messy pool (one cell in ten).
COLUMNS = [
    (["zoe@exemple.fr", "ZOE@Exemple.FR", "old1@exemple.fr", "old3@exemple.fr", "dup@exemple.fr",
      "sup1@exemple.fr", "info@bücher.de", "k1@exemple.fr", "k2@exemple.fr", "k3@exemple.fr",
      "k4@exemple.fr", "k5@exemple.fr", "k6@exemple.fr"], EMAILS),
    (["06 12 34 56 78", "07 56 78 90 12", "+33 6 12 34 56 79", "0033612345670", "", ""], PHONES),
    (["M.", "Mme", ""], SALUTATIONS),
    (["Zoé", "Noël", "", "=cmd|' /C calc'!A0"], TEXTS),
    (["Lefèvre", "", "O'Brien", "-moins"], TEXTS),
    (["14/07/1985", "1990-05-17", ""], DATES),
    (["75011", "69001", ""], ["75011", "", "1" * 21]),
    (["12", "", "1 250"], NUMBERS),
    (["12,50", "", "3"], DECIMALS),
    (["2024-01-31", "", "31/12/1999"], DATES),
    (["oui", "non", ""], BOOLEANS),
    (["Paris", "Lyon", ""], CHOICES),
    (["Paris;Lyon", "", "; ;"], MULTI),
    (["www.exemple.fr", ""], ["https://exemple.fr/a", "pas une url", ""]),
    (["14/07/2024 10:30", ""], ["2024-07-14T10:30:00", "hier", ""]),
    (["Note", "", "+33 pas un tel"], TEXTS),
]  # fmt: skip


def _row(rng: random.Random, addresses_always: bool) -> list[str]:
    row = [rng.choice(messy if rng.random() < 0.1 else clean) for clean, messy in COLUMNS]
    if addresses_always:
        row[0] = row[0] or "k1@exemple.fr"
        row[1] = row[1] or "06 12 34 56 77"
    return row


def messy_rows(seed: int, count: int, *, addresses_always: bool = True) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for _index in range(count):
        row = _row(rng, addresses_always)
        shape = rng.random()
        if shape < 0.03:
            row = row + ["", ""]  # trailing empty cells: not refused
        elif shape < 0.06:
            row = row + ["extra", "cells"]  # shifted row: refused
        elif shape < 0.09:
            row = row[: rng.randrange(1, len(row))]  # short row
        elif shape < 0.12 and rows:
            row = list(rng.choice(rows))  # exact duplicate of an earlier row
        rows.append(row)
    # An existing contact's multiple choice cleared ('; ;' selects nothing), then its mobile
    # changed in a later chunk.
    blank = [""] * len(HEADER)
    rows.insert(0, ["old1@exemple.fr", *blank[1:12], "; ;", *blank[13:]])
    rows.insert(min(len(rows), 50), ["OLD1@exemple.fr", "07 98 76 54 32", *blank[2:]])
    return rows


def csv_bytes(rows, *, delimiter: str, encoding: str, blank_lines: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    for index, row in enumerate(rows):
        writer.writerow(row)
        if blank_lines and index % 17 == 5:
            buffer.write("\r\n" if index % 2 else delimiter * 3 + "\r\n")
    return buffer.getvalue().encode(encoding, errors="replace")


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([cell.replace("\n", " ") for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_account(*, key: str, existing_list: bool):
    account = AccountFactory(contact_key=key)
    field_create(account=account, key="points", label="Points", type="number")
    field_create(account=account, key="spent", label="Montant", type="decimal")
    field_create(account=account, key="last_order", label="Dernière commande", type="date")
    field_create(account=account, key="vip", label="VIP", type="boolean")
    field_create(
        account=account, key="shop", label="Magasin", type="choice", choices=["Paris", "Lyon"]
    )
    field_create(
        account=account,
        key="shops",
        label="Magasins",
        type="multichoice",
        choices=["Paris", "Lyon", "Nice"],
    )
    field_create(account=account, key="site", label="Site", type="url")
    field_create(account=account, key="signed_up", label="Inscription", type="datetime")
    field_create(account=account, key="note", label="Note", type="text")
    # Existing contacts, some suppressed, one already in the list (unsubscribed from it).
    existing = [
        {"email": "old1@exemple.fr", "mobile": "06 11 11 11 11", "first_name": "Old",
         "fields": {"points": 3, "shops": "Nice", "note": "gardé"}},
        {"email": "old2@exemple.fr", "email_status": "unsubscribed", "last_name": "Ancien"},
        {"email": "old3@exemple.fr", "mobile": "07 56 78 90 12", "email_status": "subscribed",
         "sms_status": "subscribed"},
        {"email": "sup1@exemple.fr", "mobile": "06 12 34 56 78", "email_status": "subscribed"},
    ]  # fmt: skip
    if key == "mobile":
        existing = [row for row in existing if row.get("mobile")]
    outcomes = contacts_bulk_upsert(account=account, rows=existing, proof=ConsentProof())
    assert all(outcome.status == "created" for outcome in outcomes)
    for channel, address in (
        ("email", "sup1@exemple.fr"),
        ("email", "sup2@exemple.fr"),
        ("email", "zoe@exemple.fr"),
        ("sms", "+33612345678"),
        ("sms", "+33756789012"),
    ):
        Suppression.objects.create(
            account=account, channel=channel, address_hash=address_hash(address), reason="complaint"
        )
    target = ContactListFactory(account=account, name="Salon")
    if existing_list:
        ListMembershipFactory(
            contact_list=target,
            contact=Contact.objects.filter(account=account).order_by("pk").first(),
            status=ListMembership.Status.UNSUBSCRIBED,
        )
    return account, target


def run_import(
    account, content, name, *, options, fast: bool, monkeypatch, mapping=MAPPING, before_run=None
):
    """`before_run`: called once the import is queued, before a worker runs it."""
    monkeypatch.setattr(
        import_services, "FAST_IMPORT_VENDORS", frozenset({"postgresql"}) if fast else frozenset()
    )
    contact_import = import_services.import_create(
        account=account, uploaded_file=SimpleUploadedFile(name, content)
    )
    import_services.import_configure(contact_import=contact_import, mapping=mapping, **options)
    import_services.import_start(contact_import=contact_import)
    if before_run:
        before_run()
    started = timezone.now()
    done = import_services.import_run(import_id=contact_import.pk)
    assert done.status == ContactImport.Status.DONE, done.failure_reason
    return done, started


def snapshot(account, done, started, target) -> dict:
    contacts = []
    for contact in Contact.objects.filter(account=account).order_by("pk"):
        contacts.append(
            (
                contact.key, contact.email, getattr(contact.mobile, "raw_input", "") or "",
                contact.salutation, contact.first_name, contact.last_name, contact.birth_date,
                contact.zip_code, contact.city, contact.country, contact.company,
                json.dumps(contact.fields, sort_keys=True), contact.number_values,
                contact.date_values, contact.email_status,
                contact.sms_status, contact.updated_at >= started,
            )
        )  # fmt: skip
    form = f"import #{done.pk}: "
    ledger = sorted(
        (
            record.contact.key if record.contact else None, record.channel, record.status,
            record.address_hash, record.source, record.wording, record.form.replace(form, "#: "),
            record.actor, record.ip_address, record.user_agent, record.version,
        )
        for record in ConsentRecord.objects.filter(account=account).select_related("contact")
    )  # fmt: skip
    per_contact_order = [
        (record.contact.key, record.channel, record.status)
        for record in ConsentRecord.objects.filter(account=account, contact__isnull=False)
        .select_related("contact")
        .order_by("contact__key", "pk")
    ]
    suppressions = sorted(
        Suppression.objects.filter(account=account).values_list("channel", "address_hash", "reason")
    )
    members = sorted(
        ListMembership.objects.filter(contact_list=target).values_list("contact__key", "status")
    )
    report = []
    if done.error_report:
        with done.error_report.open("rb") as handle:
            report = list(csv.reader(io.StringIO(handle.read().decode("utf-8"))))
    counts = (
        done.total_rows, done.processed_rows, done.created_count, done.updated_count,
        done.skipped_count, done.error_count, done.progress_percent,
    )  # fmt: skip
    return {
        "counts": counts,
        "contacts": contacts,
        "ledger": ledger,
        "ledger_order": per_contact_order,
        "suppressions": suppressions,
        "members": members,
        "report": report,
    }


def compare_paths(content, name, *, options, monkeypatch, key="email", with_list=True,
                  small_chunks=True):  # fmt: skip
    if small_chunks:
        # Chunks and batches of a few rows, so that rows of one key fall in several chunks and
        # batches, as they do in a large file.
        monkeypatch.setattr(python_engine, "CHUNK_ROWS", 7)
        monkeypatch.setattr(postgres_engine, "CHUNK_ROWS", 7)
        monkeypatch.setattr(postgres_engine, "BATCH_ROWS", 21)
        monkeypatch.setattr(postgres_engine, "COPY_ROWS", 10)
        monkeypatch.setattr(postgres_engine, "FALLBACK_FETCH_ROWS", 3)
    snapshots = []
    for fast in (False, True):
        account, target = make_account(key=key, existing_list=True)
        chosen = {**options, "target_list": target} if with_list else options
        done, started = run_import(
            account, content, name, options=chosen, fast=fast, monkeypatch=monkeypatch
        )
        snapshots.append(snapshot(account, done, started, target))
    python, fast = snapshots
    for part in python:
        assert fast[part] == python[part], part
    return python


CONSENT = {"email_status": "subscribed", "sms_status": "subscribed", "consent_wording": "Salon"}


@pytest.mark.parametrize("policy", ["update", "skip", "update_only"])
@pytest.mark.parametrize("statuses", [CONSENT, {}], ids=["consent", "no-consent"])
def test_french_excel_cp1252_file(settings, tmp_path, monkeypatch, policy, statuses):
    settings.MEDIA_ROOT = tmp_path
    rounds, python_rows = [], []
    write_round, clean_in_python = (
        postgres_engine._FastImport._write_round,
        postgres_engine._FastImport._clean_in_python,
    )
    monkeypatch.setattr(
        postgres_engine._FastImport,
        "_write_round",
        lambda self, round_: rounds.append(round_) or write_round(self, round_),
    )
    monkeypatch.setattr(
        postgres_engine._FastImport,
        "_clean_in_python",
        lambda self, *args: python_rows.append(args[1]) or clean_in_python(self, *args),
    )
    content = csv_bytes(messy_rows(1, 160), delimiter=";", encoding="cp1252")
    python = compare_paths(
        content, "excel.csv", options={"duplicate_policy": policy, **statuses},
        monkeypatch=monkeypatch,
    )  # fmt: skip
    # The file does exercise what it is meant to.
    assert python["report"] and python["contacts"]
    assert python["counts"][4 if policy != "update" else 3]  # skipped, or updated
    # Keys repeated across chunks took several rounds; SQL settled some rows, Python others.
    assert max(rounds) > 2
    assert 0 < len(python_rows) < python["counts"][0]


def test_utf8_bom_comma_file_with_unsubscribe_status(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    content = csv_bytes(messy_rows(2, 120), delimiter=",", encoding="utf-8-sig")
    options = {"email_status": "unsubscribed", "sms_status": "soft_optin", "consent_wording": ""}
    python = compare_paths(content, "bom.csv", options=options, monkeypatch=monkeypatch)
    assert any(row[2] == "unsubscribed" for row in python["ledger"])


def test_mobile_keyed_account(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    content = csv_bytes(messy_rows(3, 120), delimiter=";", encoding="utf-8")
    compare_paths(
        content, "mobile.csv", options={**CONSENT, "duplicate_policy": "update"}, key="mobile",
        monkeypatch=monkeypatch,
    )  # fmt: skip


def test_xlsx_file_and_default_chunk_sizes(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    content = xlsx_bytes(messy_rows(4, 80))
    compare_paths(
        content, "export.xlsx", options=CONSENT, monkeypatch=monkeypatch, with_list=False,
        small_chunks=False,
    )  # fmt: skip


def test_nul_characters_and_tabs(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # Past the first 64 KB, which the upload's sniffing would find binary.
    padding = b"".join(b"pad%d@exemple.fr;Pad;%d\n" % (index, index) for index in range(3000))
    content = (
        b"email;first_name;Points\n" + padding + b"a@exemple.fr;Zo\x00e;1\n"
        b"b@exemple.fr;\tTab;2\nc@exemple.fr\x00;C;3\nd@exemple.fr;D\x00;4;\x00\n"
        b"A@EXEMPLE.FR;Again;5\n"
    )
    snapshots = []
    for fast in (False, True):
        account, target = make_account(key="email", existing_list=False)
        done, started = run_import(
            account, content, "nul.csv", options={}, fast=fast, monkeypatch=monkeypatch,
            mapping=["email", "first_name", "points"],
        )  # fmt: skip
        snapshots.append(snapshot(account, done, started, target))
    assert snapshots[0] == snapshots[1]
    # The invalid address and the shifted row (its extra cell holds a NUL) are reported.
    assert [row[0] for row in snapshots[1]["report"][1:]] == ["3004", "3005"]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "python"])
def test_a_stored_suppressed_mobile_is_not_resubscribed(settings, tmp_path, monkeypatch, fast):
    settings.MEDIA_ROOT = tmp_path
    # given: a contact whose stored mobile is suppressed for SMS (unsubscribing suppresses)
    account = AccountFactory()
    contacts_bulk_upsert(
        account=account,
        rows=[{"email": "s@exemple.fr", "mobile": "06 12 34 56 78", "sms_status": "unsubscribed"}],
        proof=ConsentProof(),
    )
    assert Suppression.objects.filter(account=account, channel="sms").exists()
    # when: a file without its mobile asks for SMS consent
    run_import(
        account,
        b"email;first_name\ns@exemple.fr;S\n",
        "c.csv",
        options={"sms_status": "subscribed", "consent_wording": "Salon"},
        fast=fast,
        monkeypatch=monkeypatch,
        mapping=["email", "first_name"],
    )
    # then
    assert Contact.objects.get(account=account).sms_status == "unsubscribed"


def test_unreadable_row_fails_before_anything_is_written(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(postgres_engine, "COPY_ROWS", 2)
    account, _target = make_account(key="email", existing_list=False)
    before = Contact.objects.filter(account=account).count()
    good = "".join(f"n{i}@exemple.fr,N\n" for i in range(5))
    contact_import = import_services.import_create(
        account=account,
        uploaded_file=SimpleUploadedFile("c.csv", f"email,name\n{good}".encode()),
    )
    # The file is damaged after the upload's sniffing: a field larger than csv's limit.
    with open(contact_import.file.path, "a") as handle:
        handle.write('x@exemple.fr,"' + "y" * 200_000 + '"\n')
    import_services.import_configure(contact_import=contact_import, mapping=["email", "first_name"])
    import_services.import_start(contact_import=contact_import)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the reader's UnreadableFile
        import_services.import_run(import_id=contact_import.pk)
    assert Contact.objects.filter(account=account).count() == before
    assert ContactImport.objects.get(pk=contact_import.pk).status == ContactImport.Status.FAILED


def test_progress_is_reported_per_batch(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(postgres_engine, "BATCH_ROWS", 2000)
    account, _target = make_account(key="email", existing_list=False)
    content = "email\n" + "".join(f"p{i}@exemple.fr\n" for i in range(5000))
    seen = []
    progress = postgres_engine._FastImport._progress

    def spy(self, processed):
        progress(self, processed)
        seen.append(ContactImport.objects.get(pk=self.contact_import.pk).progress_percent)

    monkeypatch.setattr(postgres_engine._FastImport, "_progress", spy)
    contact_import = import_services.import_create(
        account=account, uploaded_file=SimpleUploadedFile("c.csv", content.encode())
    )
    import_services.import_configure(contact_import=contact_import, mapping=["email"])
    import_services.import_start(contact_import=contact_import)
    done = import_services.import_run(import_id=contact_import.pk)
    assert seen == [40, 80, 100]
    assert (done.total_rows, done.created_count) == (5000, 5000)


# SQL cleaning, value by value -----------------------------------------------------------------


def sql_values(expr: sql_cleaning.SqlExpr, values: list[str], to_json: str | None = None):
    value = f"NULLIF({expr.sql}, '')"
    shown = to_json.format(value) if to_json else value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {expr.sql} IS NULL, {shown} "  # noqa: S608 - built by sql_cleaning
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n",
            [*expr.params, *expr.params, values],
        )
        return cursor.fetchall()


def phone_samples(rng: random.Random) -> list[str]:
    samples = []
    for prefix in range(100, 1000):
        national = f"{prefix}{rng.randrange(10**6):06d}"
        samples += [
            f"0{national}",
            f"+33{national}",
            f"0033{national}",
            f"0{national[0]} {national[1:3]} {national[3:5]} {national[5:7]} {national[7:]}",
        ]
    samples += [f"0{rng.randrange(10**8, 10**9)}" for _index in range(2000)]
    samples += [f"0{rng.randrange(10**7, 10**8)}", f"0{rng.randrange(10**9, 10**10)}"] * 50
    return [*samples, *(phone.strip() for phone in PHONES)]


@pytest.mark.parametrize("region", ["FR", "BE"])
def test_sql_phone_agrees_with_python(account, region):
    account.default_phone_region = region
    cleaner = ContactCleaner(account)
    values = phone_samples(random.Random(5))
    expr = sql_cleaning.builtin_cell("mobile", "t.c", key_field="email", region=region)
    settled = 0
    for value, (unsettled, sql) in zip(values, sql_values(expr, values), strict=True):
        if unsettled or not value:
            continue
        settled += 1
        clean = cleaner.clean({"mobile": value}, blank_clears=False)
        assert not clean.errors and clean.builtins["mobile"] == sql, value
    assert settled > len(values) // (3 if region == "FR" else 10)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("email", EMAILS + [e.upper() for e in EMAILS] + ["a@b.cd", "a" * 320 + "@b.fr"]),
        ("birth_date", DATES + [f"{d:02d}/{m:02d}/2023" for d in range(32) for m in range(14)]),
        ("salutation", SALUTATIONS + ["m", "mister", "Mrs.", "MS", "miss", "mademoiselle"]),
        ("first_name", TEXTS),
    ],
)
def test_sql_builtins_agree_with_python(account, name, values):
    cleaner = ContactCleaner(account)
    values = [value.strip() for value in values]
    expr = sql_cleaning.builtin_cell(name, "t.c", key_field="mobile", region="FR")
    settled = 0
    for value, (unsettled, sql) in zip(values, sql_values(expr, values), strict=True):
        if unsettled or not value:
            continue
        settled += 1
        clean = cleaner.clean({name: value}, blank_clears=False)
        expected = clean.builtins.get(name)
        assert not clean.errors and expected == (
            sql.isoformat() if isinstance(sql, datetime.date) else sql
        ), value
    assert settled


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("points", NUMBERS + ["-0", "+0", "9" * 18, "-" + "9" * 18, "1" * 20, "+-1"]),
        ("spent", DECIMALS + ["0,000001", "-123456789,123456", "999999999,999999", "1.50"]),
        ("last_order", DATES),
        ("vip", BOOLEANS + ["OUI", "y", "N", "faux", "true", "Yes"]),
        ("shop", CHOICES),
    ],
)
def test_sql_custom_fields_agree_with_python(account, custom_fields, key, values):
    cleaner = ContactCleaner(account)
    values = [value.strip() for value in values]
    expr, to_json = sql_cleaning.custom_cell(custom_fields[key], "t.c", region="FR")
    settled = 0
    for value, (unsettled, sql) in zip(values, sql_values(expr, values, to_json), strict=True):
        if unsettled or not value:
            continue
        settled += 1
        clean = cleaner.clean({"fields": {key: value}}, blank_clears=False)
        expected = clean.custom.get(key)
        assert not clean.errors and expected == json.loads(sql), value
    assert settled


def test_a_field_deleted_after_the_mapping_is_reported_on_every_row(
    settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    snapshots = []
    for fast in (False, True):
        account, target = make_account(key="email", existing_list=False)
        done, started = run_import(
            account, b"email;Note\na@exemple.fr;x\nb@exemple.fr;\n", "c.csv", options={},
            fast=fast, monkeypatch=monkeypatch, mapping=["email", "note"],
            before_run=account.contact_fields.get(key="note").delete,
        )  # fmt: skip
        snapshots.append(snapshot(account, done, started, target))
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[1]["report"]) == 3
