import json
import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumber_field.phonenumber import PhoneNumber

from contacts.normalization import (
    FIELD_TYPES,
    InvalidValue,
    normalize_choice,
    normalize_email,
    normalize_field_value,
    normalize_multichoice,
    normalize_phone,
    normalize_url,
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_integer,
    phone_number_from_e164,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NBSP, NARROW_NBSP = "\u00a0", "\u202f"
LEVELS = ["Très bien", "Bien", "Élevé", "Paris, France"]

property_test = settings(max_examples=200, deadline=None)


@pytest.fixture(autouse=True)
def english_messages():
    # The messages are translated; asserting on the English source keeps the tests independent
    # of the French catalogue.
    with translation.override("en"):
        yield


def test_invalid_value_is_a_value_error_whose_str_is_the_message():
    with pytest.raises(ValueError) as caught:
        parse_date("31/02/2024")

    assert isinstance(caught.value, InvalidValue)
    assert str(caught.value) == "impossible date: 31/02/2024"


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(InvalidValue) as caught:
        parse_decimal("x" * 5000)

    assert len(str(caught.value)) < 100


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jean.dupont@example.fr", "jean.dupont@example.fr"),
        ("  Jean.Dupont@Example.FR \n", "jean.dupont@example.fr"),
        (f"{NBSP}marie+news@orange.fr{NBSP}", "marie+news@orange.fr"),
        ("o'neil@example.com", "o'neil@example.com"),
        ("jean@MÜNCHEN.de", "jean@xn--mnchen-3ya.de"),
        ("jean@xn--mnchen-3ya.de", "jean@xn--mnchen-3ya.de"),
        ("contact@café.fr", "contact@xn--caf-dma.fr"),
        # IDNA 2008 keeps ß; the 2003 rules of Python's 'idna' codec would give fass.de.
        ("jean@faß.de", "jean@xn--fa-hia.de"),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "jean.dupont",
        "jean@",
        "@example.fr",
        "jean@@example.fr",
        "jean dupont@example.fr",
        "jean..dupont@example.fr",
        "jean@example",
        "jean@localhost",
        "jean@-example.fr",
        "jéan@example.fr",
        "jean@exa mple.fr",
        "jean@" + "a" * 64 + ".fr",
        "j" * 310 + "@example.fr",
        None,
    ],
)
def test_normalize_email_rejects(raw):
    with pytest.raises(InvalidValue, match="invalid email address"):
        normalize_email(raw)


def test_normalize_email_message_quotes_the_value():
    with pytest.raises(InvalidValue) as caught:
        normalize_email("jean@")

    assert str(caught.value) == "invalid email address: jean@"


_ascii_email_like = st.one_of(
    st.emails(),
    st.text(alphabet="aZ09._-+%!#'@", max_size=24),
    st.from_regex(r"\A[a-z0-9._+-]{1,8}@[a-z0-9.-]{1,12}\.[a-z]{1,4}\Z"),
)


@property_test
@given(_ascii_email_like)
def test_normalize_email_accepts_exactly_what_django_accepts(raw):
    # The fast path skips Django's EmailValidator; it must never let through what the validator
    # would have refused.
    address = raw.strip().lower()
    try:
        EmailValidator(allowlist=[])(address)
        django_accepts = True
    except ValidationError:
        django_accepts = False

    try:
        normalized = normalize_email(raw)
    except InvalidValue:
        normalized = None

    assert (normalized is not None) == django_accepts
    if normalized is not None:
        assert normalized == address


_domain_label = st.text(alphabet="abcxyz019-éèàüößçÉÜ", min_size=1, max_size=12)
_emails_with_idn = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"\A[A-Za-z0-9_+-]{1,10}(\.[A-Za-z0-9_+-]{1,10})?\Z"),
    _domain_label,
    st.sampled_from(["fr", "com", "DE", "bzh"]),
)


@property_test
@given(_emails_with_idn)
def test_normalize_email_is_idempotent(raw):
    try:
        once = normalize_email(raw)
    except InvalidValue:
        return

    assert once.isascii()
    assert normalize_email(once) == once


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033612345678",
        "+33 (0)6 12 34 56 78",
        f"06{NBSP}12{NBSP}34{NBSP}56{NBSP}78",
        612345678,
    ],
)
def test_normalize_phone_reads_french_numbers(raw):
    assert normalize_phone(raw) == "+33612345678"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 20 7946 0958", "FR", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "fr", "+33612345678"),
        ("+33 1 42 34 56 78", "US", "+33142345678"),
        ("0262 12 34 56", "RE", "+262262123456"),
    ],
)
def test_normalize_phone_other_regions(raw, region, expected):
    assert normalize_phone(raw, region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("abc", "FR"),
        ("123", "FR"),
        ("", "FR"),
        ("06 12 34 56", "FR"),
        ("06 12 34 56 78 90", "FR"),
        ("00 00 00 00 00", "FR"),
        ("+33 0 12 34 56 78", "FR"),
        # Trunk '0' and the '00' international prefix are French habits, not American ones.
        ("0612345678", "US"),
        ("0033612345678", "US"),
        (None, "FR"),
    ],
)
def test_normalize_phone_rejects(raw, region):
    with pytest.raises(InvalidValue, match="invalid phone number"):
        normalize_phone(raw, region=region)


def _spellings_of_french_number(digits: str) -> list[str]:
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    national = digits[1:]
    return [
        digits,
        " ".join(pairs),
        ".".join(pairs),
        "-".join(pairs),
        f"+33{national}",
        f"+33 {national[0]} {' '.join(pairs[1:])}",
        f"0033{national}",
        f"+33 (0){national}",
    ]


@property_test
@given(
    st.builds(
        "0{}{}".format,
        st.sampled_from("123456789"),
        st.from_regex(r"\A[0-9]{8}\Z"),
    )
)
def test_normalize_phone_agrees_with_phonenumbers_and_is_idempotent(digits):
    # Mobiles ('06', '07') and other French numbers, valid or not: every spelling gives what
    # phonenumbers' own parse gives, whatever shortcut normalize_phone takes.
    reference = phonenumbers.parse(digits, "FR")
    expected = (
        phonenumbers.format_number(reference, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(reference)
        else None
    )

    for spelling in _spellings_of_french_number(digits):
        if expected is None:
            with pytest.raises(InvalidValue):
                normalize_phone(spelling)
        else:
            assert normalize_phone(spelling) == expected
            assert normalize_phone(expected) == expected


@property_test
@given(st.sampled_from("67"), st.from_regex(r"\A[0-9]{8}\Z"))
def test_normalize_phone_french_mobiles(kind, rest):
    digits = f"0{kind}{rest}"
    if not phonenumbers.is_valid_number(phonenumbers.parse(digits, "FR")):
        return

    for spelling in _spellings_of_french_number(digits):
        normalized = normalize_phone(spelling)
        assert normalized == f"+33{kind}{rest}"
        assert normalize_phone(normalized) == normalized


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-3-1", date(2024, 3, 1)),
        (" 01/03/2024 ", date(2024, 3, 1)),
        ("01-03-2024", date(2024, 3, 1)),
        ("01.03.2024", date(2024, 3, 1)),
        ("1/3/2024", date(2024, 3, 1)),
        ("29/02/2024", date(2024, 2, 29)),
        ("15/06/85", date(1985, 6, 15)),
        ("15/06/05", date(2005, 6, 15)),
        (date(2024, 3, 1), date(2024, 3, 1)),
        (datetime(2024, 3, 1, 23, 59), date(2024, 3, 1)),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_parse_date_two_digit_year_pivots_on_this_year():
    this_year = date.today().year
    last_two = this_year % 100
    next_year_two = (last_two + 1) % 100

    assert parse_date(f"01/01/{last_two:02d}").year == this_year
    assert parse_date(f"01/01/{next_year_two:02d}").year == this_year - 99


@pytest.mark.parametrize(
    "raw", ["31/02/2024", "29/02/2023", "2024-13-01", "2024-02-30", "00/01/2024"]
)
def test_parse_date_rejects_impossible_dates(raw):
    with pytest.raises(InvalidValue) as caught:
        parse_date(raw)

    assert str(caught.value) == f"impossible date: {raw}"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hier",
        "2024/03/01",
        "01/03/2024 10:00",
        "1er mars 2024",
        "01/03-2024",
        "20240301",
        20240301,
        None,
    ],
)
def test_parse_date_rejects_unrecognised_formats(raw):
    with pytest.raises(InvalidValue) as caught:
        parse_date(raw)

    assert str(caught.value) == f"unrecognised date: {raw}; use DD/MM/YYYY or YYYY-MM-DD"


_date_formats = [
    lambda d: d.isoformat(),
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}",
    lambda d: f"{d.day:02d}-{d.month:02d}-{d.year:04d}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
    lambda d: f"{d.day}/{d.month}/{d.year:04d}",
]


@property_test
@given(st.dates(), st.sampled_from(_date_formats))
def test_parse_date_round_trips_every_accepted_format(day, spell):
    parsed = parse_date(spell(day))

    assert parsed == day
    assert parse_date(parsed.isoformat()) == parsed


@property_test
@given(st.data())
def test_parse_date_round_trips_two_digit_years_within_the_pivot(data):
    this_year = date.today().year
    day = data.draw(st.dates(date(this_year - 99, 1, 1), date(this_year, 12, 31)))

    assert parse_date(f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}") == day


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, 0, tzinfo=UTC)),
        ("2024-03-01T10:00:00+01:00", datetime(2024, 3, 1, 9, 0, tzinfo=UTC)),
        ("2024-03-01T10:00", datetime(2024, 3, 1, 9, 0, tzinfo=UTC)),  # Paris, winter
        ("2024-07-01 10:00:00", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),  # Paris, summer
        ("2024-03-01", datetime(2024, 2, 29, 23, 0, tzinfo=UTC)),
        ("01/03/2024 10:00", datetime(2024, 3, 1, 9, 0, tzinfo=UTC)),
        ("01/03/2024 10:00:30", datetime(2024, 3, 1, 9, 0, 30, tzinfo=UTC)),
        ("1.3.2024 9:05", datetime(2024, 3, 1, 8, 5, tzinfo=UTC)),
        ("01/03/2024", datetime(2024, 2, 29, 23, 0, tzinfo=UTC)),
        (datetime(2024, 3, 1, 10, 0), datetime(2024, 3, 1, 9, 0, tzinfo=UTC)),
        (
            datetime(2024, 3, 1, 10, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
            datetime(2024, 3, 1, 15, 0, tzinfo=UTC),
        ),
        (date(2024, 3, 1), datetime(2024, 2, 29, 23, 0, tzinfo=UTC)),
    ],
)
def test_parse_datetime(raw, expected):
    parsed = parse_datetime(raw, PARIS)

    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("31/02/2024 10:00", "impossible date and time: 31/02/2024 10:00"),
        ("2024-02-30T10:00", "impossible date and time: 2024-02-30T10:00"),
        ("01/03/2024 25:00", "impossible date and time: 01/03/2024 25:00"),
        ("0001-01-01T00:30:00+01:00", "impossible date and time: 0001-01-01T00:30:00+01:00"),
        ("demain", "unrecognised date and time: demain; use DD/MM/YYYY HH:MM or YYYY-MM-DDTHH:MM"),
        ("", "unrecognised date and time: ; use DD/MM/YYYY HH:MM or YYYY-MM-DDTHH:MM"),
        (
            1709283600,
            "unrecognised date and time: 1709283600; use DD/MM/YYYY HH:MM or YYYY-MM-DDTHH:MM",
        ),
    ],
)
def test_parse_datetime_rejects(raw, message):
    with pytest.raises(InvalidValue) as caught:
        parse_datetime(raw, PARIS)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,50", Decimal("12.50")),
        ("12.50", Decimal("12.50")),
        (" -3 ", Decimal("-3")),
        ("+3", Decimal("3")),
        ("1 234,56", Decimal("1234.56")),
        (f"1{NBSP}234,56", Decimal("1234.56")),
        (f"1{NARROW_NBSP}234{NARROW_NBSP}567,8", Decimal("1234567.8")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234.567", Decimal("1234567")),
        ("1,234,567", Decimal("1234567")),
        ("1 000", Decimal("1000")),
        ("-1 234,5", Decimal("-1234.5")),
        (",5", Decimal("0.5")),
        # A lone separator is always the decimal one, as spreadsheets export without grouping.
        ("1,234", Decimal("1.234")),
        ("1.234", Decimal("1.234")),
        (12, Decimal(12)),
        (0.1, Decimal("0.1")),
        (Decimal("2.50"), Decimal("2.50")),
    ],
)
def test_parse_decimal(raw, expected):
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "abc",
        "",
        "12,50 €",
        "12 5",
        "1 23,4",
        "1.234 567,89",
        "1,2,3",
        "12.",
        "1e5",
        "--3",
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        True,
        None,
    ],
)
def test_parse_decimal_rejects(raw):
    with pytest.raises(InvalidValue) as caught:
        parse_decimal(raw)

    assert str(caught.value) == f"not a number: {str(raw).strip()}"


def _english(number: Decimal) -> str:
    return f"{number:,.2f}"


_decimal_spellings = [
    lambda n: f"{n:.2f}",
    lambda n: f"{n:.2f}".replace(".", ","),
    _english,
    lambda n: _english(n).translate(str.maketrans({",": ".", ".": ","})),
    lambda n: _english(n).translate(str.maketrans({",": " ", ".": ","})),
    lambda n: _english(n).translate(str.maketrans({",": NBSP, ".": ","})),
    lambda n: _english(n).translate(str.maketrans({",": NARROW_NBSP, ".": ","})),
]


@property_test
@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False),
    st.sampled_from(_decimal_spellings),
)
def test_parse_decimal_round_trips_french_and_english_notation(number, spell):
    assert parse_decimal(spell(number)) == number


@property_test
@given(
    st.one_of(
        st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False).map(_english),
        st.floats(min_value=-1e12, max_value=1e12),
        st.integers(min_value=-(10**15), max_value=10**15),
    )
)
def test_decimal_field_value_is_idempotent(raw):
    once = normalize_field_value("decimal", raw)

    assert normalize_field_value("decimal", once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" -12 ", -12),
        ("12,0", 12),
        ("12.00", 12),
        ("1 000", 1000),
        (f"1{NBSP}000{NBSP}000", 1_000_000),
        ("1.000,00", 1000),
        ("1,000.00", 1000),
        ("1.000.000", 1_000_000),
        (12, 12),
        (12.0, 12),
        (Decimal("12.000"), 12),
    ],
)
def test_parse_integer(raw, expected):
    parsed = parse_integer(raw)

    assert parsed == expected
    assert type(parsed) is int


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12,5", "not a whole number: 12,5"),
        ("0,001", "not a whole number: 0,001"),
        (12.5, "not a whole number: 12.5"),
        ("abc", "not a number: abc"),
        ("", "not a number: "),
        (True, "not a number: True"),
        # A thousand in English, one in French: refused rather than guessed.
        ("1,000", "ambiguous number: 1,000; write it without a separator"),
        ("2.500", "ambiguous number: 2.500; write it without a separator"),
    ],
)
def test_parse_integer_rejects(raw, message):
    with pytest.raises(InvalidValue) as caught:
        parse_integer(raw)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    "raw",
    [
        "oui",
        "OUI",
        " Oui ",
        "yes",
        "Yes",
        "true",
        "TRUE",
        "vrai",
        "Vrai",
        "1",
        "x",
        "X",
        "o",
        "y",
        True,
        1,
    ],
)
def test_parse_boolean_true(raw):
    assert parse_boolean(raw) is True


@pytest.mark.parametrize(
    "raw", ["non", "NON", " Non ", "no", "false", "False", "faux", "FAUX", "0", "n", "N", False, 0]
)
def test_parse_boolean_false(raw):
    assert parse_boolean(raw) is False


@pytest.mark.parametrize("raw", ["", "  ", "peut-être", "2", "oui non", 2, -1, 1.5, None])
def test_parse_boolean_rejects(raw):
    with pytest.raises(InvalidValue, match="not a yes/no value"):
        parse_boolean(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.example.com/", "https://www.example.com/"),
        ("http://example.com/page?a=1#top", "http://example.com/page?a=1#top"),
        (" HTTPS://Example.COM/Path?Q=Upper ", "https://example.com/Path?Q=Upper"),
        ("www.example.com", "https://www.example.com"),
        ("example.fr/promo?code=ETE", "https://example.fr/promo?code=ETE"),
        ("example.com:8080/x", "https://example.com:8080/x"),
        ("boulangerie-café.fr", "https://boulangerie-café.fr"),
        ("http://user:Secret@Example.com/", "http://user:Secret@example.com/"),
    ],
)
def test_normalize_url(raw, expected):
    normalized = normalize_url(raw)

    assert normalized == expected
    assert normalize_url(normalized) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "example",
        "localhost",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "mailto:jean@example.fr",
        "https://",
        "http://exa mple.com",
        "http://[::1",
        None,
    ],
)
def test_normalize_url_rejects(raw):
    with pytest.raises(InvalidValue, match="invalid URL"):
        normalize_url(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Très bien", "Très bien"),
        ("tres bien", "Très bien"),
        ("TRÈS  BIEN ", "Très bien"),
        ("élevé", "Élevé"),
        ("ELEVE", "Élevé"),
        ("Eleve", "Élevé"),
        ("paris, france", "Paris, France"),
    ],
)
def test_normalize_choice_ignores_case_accents_and_spacing(raw, expected):
    assert normalize_choice(raw, LEVELS) == expected


def test_normalize_choice_prefers_exact_then_first_of_lookalikes():
    lookalikes = ["Eleve", "Élève"]

    assert normalize_choice("Élève", lookalikes) == "Élève"
    assert normalize_choice("ÉLÈVE", lookalikes) == "Eleve"


def test_normalize_choice_accepts_a_number_from_a_spreadsheet():
    assert normalize_choice(3, ["1", "2", "3"]) == "3"


def test_normalize_choice_rejects_with_the_choices():
    with pytest.raises(InvalidValue) as caught:
        normalize_choice("Passable", LEVELS)

    assert str(caught.value) == (
        "unknown choice: Passable; expected one of: Très bien, Bien, Élevé, Paris, France"
    )


def test_normalize_choice_message_shortens_long_lists():
    choices = [f"choice {n}" for n in range(50)]

    with pytest.raises(InvalidValue) as caught:
        normalize_choice("other", choices)

    assert str(caught.value).endswith("choice 8, choice 9, …")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bien;très bien", ["Très bien", "Bien"]),
        ("Bien,ELEVE", ["Bien", "Élevé"]),
        ("Élevé | bien", ["Bien", "Élevé"]),
        ("bien; Bien;BIEN", ["Bien"]),
        ("bien;;", ["Bien"]),
        (["élevé", "Très bien"], ["Très bien", "Élevé"]),
        (("Bien",), ["Bien"]),
        ("Paris, France", ["Paris, France"]),
        (";", []),
        ([], []),
    ],
)
def test_normalize_multichoice(raw, expected):
    assert normalize_multichoice(raw, LEVELS) == expected


@pytest.mark.parametrize("raw", ["bien;passable", ["Bien", "nope"], "Paris, France;Bien"])
def test_normalize_multichoice_rejects_unknown_items(raw):
    with pytest.raises(InvalidValue, match="unknown choice"):
        normalize_multichoice(raw, LEVELS)


@pytest.mark.parametrize(
    ("field_type", "raw", "expected"),
    [
        ("text", "  Bonjour  ", "Bonjour"),
        ("text", 75001, "75001"),
        ("text", "a\x00b", "ab"),
        ("number", "1 000", 1000),
        ("number", 12.0, 12),
        ("decimal", "12,50", 12.5),
        ("decimal", "12,00", 12),
        ("decimal", Decimal("0.1"), 0.1),
        ("date", "01/03/2024", "2024-03-01"),
        ("date", datetime(2024, 3, 1, 10, 0), "2024-03-01"),
        ("datetime", "01/03/2024 10:00:30", "2024-03-01T09:00:30Z"),
        ("datetime", "2024-03-01T10:00:00.999Z", "2024-03-01T10:00:00Z"),
        ("datetime", date(2024, 7, 1), "2024-06-30T22:00:00Z"),
        ("boolean", "Oui", True),
        ("boolean", "non", False),
        ("choice", "tres bien", "Très bien"),
        ("multichoice", "bien;élevé", ["Bien", "Élevé"]),
        ("email", " Jean@Example.FR", "jean@example.fr"),
        ("phone", "06 12 34 56 78", "+33612345678"),
        ("url", "www.example.com", "https://www.example.com"),
    ],
)
def test_normalize_field_value(field_type, raw, expected):
    normalized = normalize_field_value(field_type, raw, choices=LEVELS, tz=PARIS)

    assert normalized == expected
    assert type(normalized) is type(expected)
    assert json.loads(json.dumps(normalized)) == normalized
    assert normalize_field_value(field_type, normalized, choices=LEVELS, tz=PARIS) == normalized


def test_normalize_field_value_datetime_without_tz_reads_utc():
    assert normalize_field_value("datetime", "01/03/2024 10:00") == "2024-03-01T10:00:00Z"


@pytest.mark.parametrize("field_type", FIELD_TYPES)
@pytest.mark.parametrize("raw", [None, "", "   ", f"{NBSP}"])
def test_normalize_field_value_blank_is_no_value(field_type, raw):
    assert normalize_field_value(field_type, raw, choices=LEVELS) is None


def test_normalize_field_value_empty_selection_is_no_value():
    assert normalize_field_value("multichoice", ";", choices=LEVELS) is None
    assert normalize_field_value("multichoice", [], choices=LEVELS) is None


@pytest.mark.parametrize(
    ("field_type", "raw", "message"),
    [
        ("text", "x" * 1001, "text too long: 1001 characters, at most 1000"),
        ("number", "12,5", "not a whole number: 12,5"),
        ("number", "9" * 20, "number too large: " + "9" * 20),
        ("decimal", "1" + "0" * 400 + ",5", "number too large: "),
        ("date", "31/02/2024", "impossible date: 31/02/2024"),
        ("boolean", "peut-être", "not a yes/no value: peut-être"),
        ("choice", "passable", "unknown choice: passable"),
        ("email", "jean@", "invalid email address: jean@"),
        ("phone", "123", "invalid phone number: 123"),
        ("url", "ftp://example.com", "invalid URL: ftp://example.com"),
    ],
)
def test_normalize_field_value_rejects(field_type, raw, message):
    with pytest.raises(InvalidValue) as caught:
        normalize_field_value(field_type, raw, choices=LEVELS)

    assert str(caught.value).startswith(message)


def test_normalize_field_value_text_keeps_a_thousand_characters():
    assert normalize_field_value("text", "x" * 1000) == "x" * 1000


def test_normalize_field_value_unknown_type_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown field type") as caught:
        normalize_field_value("colour", "red")

    assert not isinstance(caught.value, InvalidValue)


@pytest.mark.parametrize("field_type", ["choice", "multichoice"])
def test_normalize_field_value_choice_types_need_choices(field_type):
    with pytest.raises(ValueError, match="list of choices") as caught:
        normalize_field_value(field_type, "Bien")

    assert not isinstance(caught.value, InvalidValue)


def test_field_types_match_the_contact_field_model():
    from contacts.models import FieldType

    assert set(FIELD_TYPES) == set(FieldType.values)


def test_phone_number_from_e164_is_what_parsing_gives_for_every_region():
    """The shortcut the bulk writers take gives the PhoneNumber that phonenumbers.parse gives,
    for an example number of every region and kind (Italian leading zeros included)."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            shortcut, parsed = phone_number_from_e164(e164), PhoneNumber.from_string(e164)
            assert shortcut == parsed, e164
            assert shortcut.as_e164 == e164 and shortcut.is_valid()
            assert shortcut.italian_leading_zero == parsed.italian_leading_zero, e164
            assert shortcut.number_of_leading_zeros == parsed.number_of_leading_zeros, e164
            assert shortcut.raw_input == e164
            checked += 1
    assert checked > 400
