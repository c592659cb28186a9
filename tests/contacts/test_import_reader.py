import datetime as dt
import os
import random
import tracemalloc

import openpyxl
import pytest
from django.utils import translation

from contacts.imports.mapping import normalise_header, propose_mapping
from contacts.imports.reader import UnreadableFile, count_data_rows, iter_rows, sniff

FRENCH_HEADER = "Prénom;Nom;Civilité;E-mail;Téléphone portable;Code postal;Date de naissance;Panier"


@pytest.fixture(autouse=True)
def english_messages():
    """These tests read the messages' English source text (the app's default is French)."""
    with translation.override("en"):
        yield


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def rows(path):
    return list(iter_rows(path, sniff(path)))


def open_fd_count():
    return len(os.listdir("/proc/self/fd"))


def test_utf8_csv_with_bom_keeps_the_bom_out_of_the_header(tmp_path):
    path = write(tmp_path, "bom.csv", "email,first_name\nzoé@example.fr,Zoé\n".encode("utf-8-sig"))

    info = sniff(path)

    assert (info.format, info.encoding, info.delimiter) == ("csv", "utf-8-sig", ",")
    assert info.header == ["email", "first_name"]
    assert rows(path) == [(2, ["zoé@example.fr", "Zoé"])]


def test_french_excel_csv_cp1252_semicolons_crlf_and_decimal_commas(tmp_path):
    lines = [
        FRENCH_HEADER,
        "Hélène;Dupré;Mme;helene@example.fr;06 12 34 56 78;75011;12/05/1990;12,50",
        "François;Lefèvre;M.;francois@example.fr;0698765432;13001;01/01/1985;1 250,00",
        "Cécile;Août;Mme;cecile@example.fr;;69003;;0,99",
    ]
    path = write(tmp_path, "export.csv", ("\r\n".join(lines) + "\r\n").encode("cp1252"))

    info = sniff(path, filename="export.csv")

    assert (info.encoding, info.delimiter, info.has_header) == ("cp1252", ";", True)
    assert info.header == FRENCH_HEADER.split(";")
    assert info.column_count == 8
    assert info.sample_rows[0][-1] == "12,50"
    assert rows(path) == [
        (2, lines[1].split(";")),
        (3, lines[2].split(";")),
        (4, lines[3].split(";")),
    ]


def test_latin1_file_reads_as_cp1252(tmp_path):
    path = write(
        tmp_path, "latin1.csv", "nom;ville\nMüller;Besançon\nÉloïse;Nîmes\n".encode("latin-1")
    )

    info = sniff(path)

    assert info.encoding == "cp1252"
    assert rows(path) == [(2, ["Müller", "Besançon"]), (3, ["Éloïse", "Nîmes"])]


def test_cp1252_accents_far_down_an_ascii_file_are_still_detected(tmp_path):
    ascii_rows = "".join(f"user{n}@example.com;Paris\n" for n in range(60_000))
    content = f"email;ville\n{ascii_rows}late@example.com;Orléans\n".encode("cp1252")
    assert len(content) > 1024 * 1024
    path = write(tmp_path, "late.csv", content)

    info = sniff(path)

    assert info.encoding == "cp1252"
    assert list(iter_rows(path, info))[-1][1] == ["late@example.com", "Orléans"]


def test_utf8_character_cut_by_a_read_chunk_is_still_utf8(tmp_path):
    padding = "x" * (64 * 1024 - len("email;ville\n") - 1)
    path = write(tmp_path, "cut.csv", f"email;ville\n{padding}é;Orléans\n".encode())

    assert sniff(path).encoding == "utf-8"


def test_tab_separated_file(tmp_path):
    content = "email\tcity\na@example.com\tParis, France\nb@example.com\tLyon; Rhône\n"
    path = write(tmp_path, "tabs.txt", content.encode())

    info = sniff(path)

    assert (info.encoding, info.delimiter) == ("utf-8", "\t")
    assert rows(path) == [
        (2, ["a@example.com", "Paris, France"]),
        (3, ["b@example.com", "Lyon; Rhône"]),
    ]


def test_excel_unicode_text_export_is_utf16_tab_separated(tmp_path):
    path = write(
        tmp_path, "unicode.txt", "email\tprénom\r\nzoe@example.fr\tZoé\r\n".encode("utf-16")
    )

    info = sniff(path)

    assert (info.encoding, info.delimiter) == ("utf-16", "\t")
    assert rows(path) == [(2, ["zoe@example.fr", "Zoé"])]


def test_commas_inside_values_do_not_beat_a_consistent_comma_delimiter(tmp_path):
    path = write(
        tmp_path,
        "en.csv",
        b'email,name,tags\na@example.com,"Smith, John",vip;newsletter\nb@example.com,Doe,\n',
    )

    info = sniff(path)

    assert info.delimiter == ","
    assert rows(path)[0] == (2, ["a@example.com", "Smith, John", "vip;newsletter"])


def test_blank_lines_are_skipped_and_row_numbers_follow_the_file(tmp_path):
    content = b"email;nom\n\na@example.com;A\n   \n;;\nb@example.com;B\n\n"
    path = write(tmp_path, "gaps.csv", content)

    info = sniff(path)

    assert info.delimiter == ";"
    assert rows(path) == [(3, ["a@example.com", "A"]), (6, ["b@example.com", "B"])]
    assert count_data_rows(path, info) == 2


def test_ragged_rows_are_yielded_as_they_are(tmp_path):
    content = b"email;nom;ville\na@example.com;A;Paris\nb@example.com\nc@example.com;C;Lyon;extra\n"
    path = write(tmp_path, "ragged.csv", content)

    assert rows(path) == [
        (2, ["a@example.com", "A", "Paris"]),
        (3, ["b@example.com"]),
        (4, ["c@example.com", "C", "Lyon", "extra"]),
    ]


def test_quoted_cell_with_newline_and_delimiter_is_one_cell_and_rows_count_records(tmp_path):
    content = (
        b'email;adresse;ville\r\na@example.com;"12 rue des Lilas\r\nB\xc3\xa2t. A; 2e \xc3\xa9tage";Paris\r\n'
        b"b@example.com;3 place du March\xc3\xa9;Lyon\r\n"
    )
    path = write(tmp_path, "multiline.csv", content)

    info = sniff(path)

    assert info.delimiter == ";"
    assert rows(path) == [
        (2, ["a@example.com", "12 rue des Lilas\r\nBât. A; 2e étage", "Paris"]),
        (3, ["b@example.com", "3 place du Marché", "Lyon"]),
    ]


def test_formula_like_cells_are_returned_verbatim(tmp_path):
    content = b'email;note\na@example.com;=HYPERLINK("x")\nb@example.com;+33612345678\nc@example.com;-5\nd@example.com;@SUM(A1)\n'
    path = write(tmp_path, "formulas.csv", content)

    assert [cells[1] for _, cells in rows(path)] == [
        '=HYPERLINK("x")',
        "+33612345678",
        "-5",
        "@SUM(A1)",
    ]


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n\r\n\t\n", b";;;\r\n;;\r\n"],
    ids=["zero-bytes", "whitespace", "only-delimiters"],
)
def test_empty_files_are_unreadable(tmp_path, content):
    path = write(tmp_path, "empty.csv", content)

    with pytest.raises(UnreadableFile, match="The file is empty."):
        sniff(path)


@pytest.mark.parametrize(
    "content",
    [
        random.Random(42).randbytes(4096),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4,
        bytes(b for b in random.Random(7).randbytes(8192) if b),
    ],
    ids=["random", "png", "random-without-nul"],
)
def test_binary_file_named_csv_is_unreadable(tmp_path, content):
    path = write(tmp_path, "contacts.csv", content)

    with pytest.raises(UnreadableFile, match="it looks binary"):
        sniff(path, filename="contacts.csv")


def test_old_xls_workbook_gets_its_own_message(tmp_path):
    path = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))

    with pytest.raises(UnreadableFile, match=r"\.xls"):
        sniff(path, filename="old.xls")


def test_zip_that_is_not_a_workbook_is_unreadable(tmp_path):
    import zipfile

    path = tmp_path / "contacts.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")

    with pytest.raises(UnreadableFile, match="OpenDocument"):
        sniff(path, filename="contacts.ods")


def test_header_only_file_is_unreadable(tmp_path):
    path = write(tmp_path, "header.csv", FRENCH_HEADER.encode("cp1252") + b"\r\n\r\n")

    with pytest.raises(UnreadableFile, match="header row but no data rows"):
        sniff(path)


def test_file_without_header_row(tmp_path):
    path = write(tmp_path, "noheader.csv", b"a@example.com;Alice;75001\nb@example.com;Bob;69002\n")

    info = sniff(path)

    assert info.has_header is False
    assert info.header == ["Column 1", "Column 2", "Column 3"]
    assert rows(path)[0] == (1, ["a@example.com", "Alice", "75001"])


def test_blank_header_cells_get_a_column_name(tmp_path):
    path = write(tmp_path, "holes.csv", b"email;;ville\na@example.com;x;Paris\n")

    assert sniff(path).header == ["email", "Column 2", "ville"]


def test_single_column_file_uses_comma(tmp_path):
    path = write(tmp_path, "emails.csv", b"email\na@example.com\nb@example.com\n")

    info = sniff(path)

    assert (info.delimiter, info.column_count) == (",", 1)
    assert count_data_rows(path, info) == 2


def test_xlsx_cells_become_strings(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["E-mail", "Prénom", "Date de naissance", "Inscrit le", "Points", "Panier", "Ville"]
    )
    sheet.append(
        [
            "a@example.com",
            "Zoé",
            dt.datetime(1990, 5, 12),
            dt.datetime(2024, 3, 1, 10, 30),
            12.0,
            12.5,
            None,
        ]
    )
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(["b@example.com", None, dt.date(1985, 1, 1), None, 3, 0.1 + 0.2, "Paris"])
    sheet.append(["c@example.com"])
    path = tmp_path / "upload"  # stored uploads do not keep their extension
    workbook.save(path)

    info = sniff(path, filename="contacts.xlsx")

    assert (info.format, info.encoding, info.delimiter, info.has_header) == (
        "xlsx",
        None,
        None,
        True,
    )
    assert info.header[0] == "E-mail"
    assert info.column_count == 7
    assert rows(path) == [
        (2, ["a@example.com", "Zoé", "1990-05-12", "2024-03-01T10:30:00", "12", "12.5", ""]),
        (4, ["b@example.com", "", "1985-01-01", "", "3", "0.3", "Paris"]),
        (5, ["c@example.com", "", "", "", "", "", ""]),
    ]
    assert info.sample_rows == [cells for _, cells in rows(path)]


def test_xlsx_with_only_a_header_is_unreadable(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["email", "nom"])
    path = tmp_path / "header.xlsx"
    workbook.save(path)

    with pytest.raises(UnreadableFile, match="header row but no data rows"):
        sniff(path)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count open files")
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_stopping_early_closes_the_file(tmp_path, kind):
    if kind == "csv":
        path = write(tmp_path, "a.csv", b"email\na@example.com\nb@example.com\n")
    else:
        workbook = openpyxl.Workbook()
        for row in (["email"], ["a@example.com"], ["b@example.com"]):
            workbook.active.append(row)
        path = tmp_path / "a.xlsx"
        workbook.save(path)
    info = sniff(path)
    before = open_fd_count()

    rows_iterator = iter_rows(path, info)
    next(rows_iterator)
    assert open_fd_count() > before
    rows_iterator.close()

    assert open_fd_count() == before


def test_large_csv_is_streamed_with_flat_memory(tmp_path):
    path = tmp_path / "large.csv"
    with open(path, "w", encoding="cp1252", newline="") as file:
        file.write("E-mail;Prénom;Nom;Code postal;Panier\r\n")
        for start in range(0, 200_000, 10_000):
            file.write(
                "".join(
                    f"user{n}@example.fr;Hélène;Dupré;{75000 + n % 100};{n % 97},50\r\n"
                    for n in range(start, start + 10_000)
                )
            )
    assert path.stat().st_size > 8 * 1024 * 1024

    tracemalloc.start()
    try:
        info = sniff(path)
        count, last = 0, None
        for _number, cells in iter_rows(path, info):
            count, last = count + 1, cells
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert last == ["user199999@example.fr", "Hélène", "Dupré", "75099", "82,50"]
    assert peak < 3 * 1024 * 1024


def test_normalise_header():
    assert normalise_header("  Prénom ") == "prenom"
    assert normalise_header("E-MAIL") == "e mail"
    assert normalise_header("N° de téléphone") == "n de telephone"
    assert normalise_header("date_de__naissance") == "date de naissance"
    assert normalise_header("\ufeffCivilité ") == "civilite"


def test_propose_mapping_french_headers():
    header = FRENCH_HEADER.split(";") + ["Ville", "Pays", "Société", "Commentaire"]

    assert propose_mapping(header, {}) == [
        "first_name",
        "last_name",
        "salutation",
        "email",
        "mobile",
        "zip_code",
        "birth_date",
        None,
        "city",
        "country",
        "company",
        None,
    ]


def test_propose_mapping_english_headers():
    header = [
        "Email Address",
        "First Name",
        "Last Name",
        "Title",
        "Mobile Phone",
        "Zip",
        "City",
        "Date of Birth",
        "Company",
        "Country",
    ]

    assert propose_mapping(header, {}) == [
        "email",
        "first_name",
        "last_name",
        "salutation",
        "mobile",
        "zip_code",
        "city",
        "birth_date",
        "company",
        "country",
    ]


def test_propose_mapping_gives_each_field_to_one_column():
    assert propose_mapping(["Email", "Mail", "Courriel"], {}) == ["email", None, None]


def test_propose_mapping_prefers_an_explicit_mobile_column_to_a_generic_phone():
    assert propose_mapping(["Téléphone", "Portable"], {}) == [None, "mobile"]
    assert propose_mapping(["Téléphone", "Tel"], {}) == ["mobile", None]


def test_propose_mapping_custom_fields_by_key_or_label_and_builtins_win():
    custom_fields = {
        "loyalty_points": "Points fidélité",
        "shop": "Magasin préféré",
        "ville": "Ville",
    }

    mapping = propose_mapping(
        ["email", "Loyalty points", "magasin prefere", "VILLE", "Inconnu", ""], custom_fields
    )

    assert mapping == ["email", "loyalty_points", "shop", "city", None, None]
