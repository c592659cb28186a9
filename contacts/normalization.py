"""Canonical forms of contact values, shared by every write path (API, CSV/XLSX import, UI).

Stored values must be canonical so that SQL can compare them: one spelling per email address,
E.164 phone numbers, ISO dates, JSON numbers. An import runs these functions on millions of
cells, so the common case (input that is already clean) takes a precompiled-regex fast path,
and lookups whose inputs repeat (phone numbers, email domains, choice labels) are cached.

Errors are `InvalidValue` with a short translated message that the caller shows next to the
field or the import row.
"""

import functools
import math
import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime, time
from decimal import Decimal
from urllib.parse import urlsplit

import idna
import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

FIELD_TYPES = (
    "text",
    "number",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "choice",
    "multichoice",
    "email",
    "phone",
    "url",
)

MAX_TEXT_LENGTH = 1000

# SQLite stores JSON integers as signed 64-bit; a larger one would compare as a lossy real.
_SMALLEST_INTEGER = -(2**63)
_LARGEST_INTEGER = 2**63 - 1

# A message quotes the user's value; a whole pasted paragraph would drown it.
_MAX_QUOTED_LENGTH = 60


class InvalidValue(ValueError):
    """A value that cannot be normalised; str(exc) is a short message for the user."""


def _invalid(message: str, value, **params) -> InvalidValue:
    quoted = str(value).strip()
    if len(quoted) > _MAX_QUOTED_LENGTH:
        quoted = quoted[: _MAX_QUOTED_LENGTH - 1] + "…"
    return InvalidValue(message % {"value": quoted, **params})


# Django's EmailValidator costs ~6 µs, most of an import's 10 µs budget for a whole row. Every
# address this pattern accepts is also accepted by the validator (test_normalization checks it),
# so the validator only runs on what the pattern rejects: unusual or invalid addresses.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_MAX_EMAIL_LENGTH = 320

# 'localhost' is allowed by Django's default but can never receive a campaign.
_validate_email = EmailValidator(allowlist=[])


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    # IDNA 2008 with UTS #46 mapping, as browsers and registries do; Python's 'idna' codec is
    # IDNA 2003, which turns 'faß.de' into 'fass.de', a different domain.
    return idna.encode(domain, uts46=True).decode("ascii")


def normalize_email(value: str) -> str:
    """Lower-cased address with an ASCII (punycode) domain."""
    if not isinstance(value, str):
        raise _invalid(_("invalid email address: %(value)s"), value)
    address = value.strip().lower()
    if len(address) <= _MAX_EMAIL_LENGTH and _PLAIN_EMAIL.fullmatch(address):
        return address
    if not address.isascii():
        local_part, at, domain = address.rpartition("@")
        try:
            address = f"{local_part}{at}{_ascii_domain(domain)}"
        except UnicodeError:
            raise _invalid(_("invalid email address: %(value)s"), value) from None
    # A non-ASCII local part needs SMTPUTF8 from every relay on the way, which is rare.
    if not address.isascii():
        raise _invalid(_("invalid email address: %(value)s"), value)
    try:
        _validate_email(address)
    except ValidationError:
        raise _invalid(_("invalid email address: %(value)s"), value) from None
    return address


# phonenumbers.parse costs ~20 µs in pure Python. For French numbers written the usual ways
# ('06 12 34 56 78', '+33 6 12 34 56 78', '0033…') its answer is known: country code 33 and the
# nine digits after the trunk '0'. Only the validity check is left to phonenumbers, and anything
# it rejects takes the full parse, so the answer is always phonenumbers' own.
_FRENCH_NUMBER = re.compile(r"(?:\+33|0033|0)([1-9]\d{8})", re.ASCII)
_PHONE_SPACING = re.compile(r"[\s.-]")


def _french_e164_or_none(value: str, region: str) -> str | None:
    compact = _PHONE_SPACING.sub("", value)
    match = _FRENCH_NUMBER.fullmatch(compact)
    # Only the '+33' form is international; '0…' and '0033…' are French dialling habits.
    if match is None or not (region == "FR" or compact.startswith("+")):
        return None
    number = phonenumbers.PhoneNumber(country_code=33, national_number=int(match[1]))
    if not phonenumbers.is_valid_number_for_region(number, "FR"):
        return None
    return f"+33{match[1]}"


@functools.lru_cache(maxsize=65_536)
def _e164_or_none(value: str, region: str) -> str | None:
    # None rather than an exception, so that repeated garbage is cached too.
    e164 = _french_e164_or_none(value, region)
    if e164 is not None:
        return e164
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_number_from_e164(e164: str) -> PhoneNumber:
    """The PhoneNumber of an E.164 text that normalize_phone returned, without parsing it again
    (the model field's setter would, at ~12 µs a number). E.164 country codes are prefix-free,
    so the first 1-3 digits that are one are the country code; leading zeros of the national
    number (Italy) are kept as phonenumbers.parse keeps them."""
    digits = e164[1:]
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        raise ValueError(f"not an E.164 number: {e164!r}")
    national = digits[length:]
    number = PhoneNumber(country_code=country_code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    number.raw_input = e164
    return number


def normalize_phone(value: str, region: str = "FR") -> str:
    """E.164 ('+33612345678'); `region` (ISO 3166 alpha-2) reads national numbers."""
    # A spreadsheet turns '0612345678' into the number 612345678, which still reads fine.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    e164 = _e164_or_none(value, region.upper()) if isinstance(value, str) else None
    if e164 is None:
        raise _invalid(_("invalid phone number: %(value)s"), value)
    return e164


_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})", re.ASCII)
_FRENCH_DATE = re.compile(
    r"(?P<day>\d{1,2})(?P<separator>[/.-])(?P<month>\d{1,2})(?P=separator)(?P<year>\d{4}|\d{2})",
    re.ASCII,
)
_FRENCH_DATETIME = re.compile(
    r"(?P<date>[\d/.-]+)(?:\s+|T)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?",
    re.ASCII,
)


def _four_digit_year(two_digits: int) -> int:
    # Two-digit years are mostly birth dates: '85' is 1985, but '05' is 2005.
    this_year = date.today().year
    century = this_year - this_year % 100
    if two_digits > this_year % 100:
        century -= 100
    return century + two_digits


def _date_fields(text: str) -> tuple[int, int, int] | None:
    match = _ISO_DATE.fullmatch(text) or _FRENCH_DATE.fullmatch(text)
    if match is None:
        return None
    year = int(match["year"])
    if len(match["year"]) == 2:
        year = _four_digit_year(year)
    return year, int(match["month"]), int(match["day"])


def parse_date(value) -> date:
    """A date from a date/datetime object, 'YYYY-MM-DD' or 'DD/MM/YYYY' (also '-', '.', 'YY')."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = value.strip() if isinstance(value, str) else ""
    # Only the exact 'YYYY-MM-DD' shape: fromisoformat also reads week dates like '2024-W01-1'.
    if len(text) == 10 and text[4] == "-" == text[7]:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    fields = _date_fields(text)
    if fields is None:
        raise _invalid(_("unrecognised date: %(value)s; use DD/MM/YYYY or YYYY-MM-DD"), value)
    try:
        return date(*fields)
    except ValueError:
        raise _invalid(_("impossible date: %(value)s"), value) from None


def _datetime_from_text(text: str, value) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _FRENCH_DATETIME.fullmatch(text)
    date_text = match["date"] if match else text
    fields = _date_fields(date_text)
    if fields is None:
        raise _invalid(
            _("unrecognised date and time: %(value)s; use DD/MM/YYYY HH:MM or YYYY-MM-DDTHH:MM"),
            value,
        )
    clock = (int(match["hour"]), int(match["minute"]), int(match["second"] or 0)) if match else ()
    try:
        return datetime(*fields, *clock)
    except ValueError:
        raise _invalid(_("impossible date and time: %(value)s"), value) from None


def parse_datetime(value, tz: zoneinfo.ZoneInfo) -> datetime:
    """An aware UTC datetime; input without an offset is wall-clock time in `tz`."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        parsed = _datetime_from_text(value.strip(), value)
    else:
        raise _invalid(
            _("unrecognised date and time: %(value)s; use DD/MM/YYYY HH:MM or YYYY-MM-DDTHH:MM"),
            value,
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed out of range by the offset
        raise _invalid(_("impossible date and time: %(value)s"), value) from None


_PLAIN_DECIMAL = re.compile(r"[-+]?\d+(?:\.\d+)?", re.ASCII)
_PLAIN_INTEGER = re.compile(r"[-+]?\d{1,18}", re.ASCII)
# The integer part of a formatted number: digits grouped by threes with one consistent separator.
_GROUPED_INTEGER = re.compile(
    r"(?P<sign>[-+]?)(?:\d{1,3}(?P<group>[ \u00a0\u202f.,])\d{3}(?:(?P=group)\d{3})*|\d*)",
    re.ASCII,
)
_FRACTION = re.compile(r"\d+", re.ASCII)
# '1,000' is a thousand in English and one in French.
_AMBIGUOUS_INTEGER = re.compile(r"[-+]?[1-9]\d{0,2}[.,]\d{3}", re.ASCII)


def _decimal_from_text(text: str) -> Decimal | None:
    # The decimal separator is the last '.' or ',' when it appears only once: '12,50',
    # '1.234,56', '1,234.56', and also '1,234' (1.234, as both French and English spreadsheets
    # export it). When it repeats ('1.234.567') it groups thousands, and there is no fraction.
    separator_at = max(text.rfind("."), text.rfind(","))
    if separator_at != -1 and text.count(text[separator_at]) == 1:
        integer_text, fraction = text[:separator_at], text[separator_at + 1 :]
        if not _FRACTION.fullmatch(fraction):
            return None
    else:
        integer_text, fraction = text, ""
    match = _GROUPED_INTEGER.fullmatch(integer_text)
    if match is None:
        return None
    digits = match[0].lstrip("+-")
    if match["group"]:
        digits = digits.replace(match["group"], "")
    if not digits and not fraction:
        return None
    if fraction:
        return Decimal(f"{match['sign']}{digits or '0'}.{fraction}")
    return Decimal(f"{match['sign']}{digits}")


def parse_decimal(value) -> Decimal:
    """A finite Decimal from a number or text in French or English notation ('1 234,56')."""
    if isinstance(value, str):
        text = value.strip()
        number = Decimal(text) if _PLAIN_DECIMAL.fullmatch(text) else _decimal_from_text(text)
    elif isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest exact spelling: 0.1 becomes 0.1, not 0.1000000000000000055….
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        number = None
    if number is None or not number.is_finite():
        raise _invalid(_("not a number: %(value)s"), value)
    return number


def parse_integer(value) -> int:
    """An int from a number or text; a fraction is accepted only if it is zero ('12,0')."""
    if isinstance(value, str):
        text = value.strip()
        if _PLAIN_INTEGER.fullmatch(text):
            return int(text)
        if _AMBIGUOUS_INTEGER.fullmatch(text):
            raise _invalid(_("ambiguous number: %(value)s; write it without a separator"), value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise _invalid(_("not a whole number: %(value)s"), value)
    return int(number)


_BOOLEAN_WORDS = {
    **dict.fromkeys(("oui", "yes", "true", "vrai", "1", "x", "o", "y"), True),
    **dict.fromkeys(("non", "no", "false", "faux", "0", "n"), False),
}


def parse_boolean(value) -> bool:
    """True for 'oui', 'yes', 'x'…, False for 'non', 'no', '0'…; blank is the caller's business."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        answer = _BOOLEAN_WORDS.get(value.strip().lower())
        if answer is not None:
            return answer
    raise _invalid(_("not a yes/no value: %(value)s"), value)


_HAS_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LOOKS_LIKE_DOMAIN = re.compile(r"(?:[\w-]+\.)+[^\W\d_]{2,63}(?::\d+)?(?:[/?#]\S*)?")
_validate_url = URLValidator(schemes=["http", "https"])


def normalize_url(value: str) -> str:
    """An http(s) URL; 'www.example.com' becomes 'https://www.example.com'."""
    text = value.strip() if isinstance(value, str) else ""
    if not _HAS_SCHEME.match(text) and _LOOKS_LIKE_DOMAIN.fullmatch(text):
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        _validate_url(text)
    except (ValueError, ValidationError):
        raise _invalid(_("invalid URL: %(value)s"), value) from None
    # Scheme and host are case-insensitive; the rest (path, query, credentials) is not.
    credentials, at, host = parts.netloc.rpartition("@")
    return parts._replace(
        scheme=parts.scheme.lower(), netloc=f"{credentials}{at}{host.lower()}"
    ).geturl()


@functools.lru_cache(maxsize=16_384)
def _choice_key(text: str) -> str:
    without_accents = "".join(
        character
        for character in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(character)
    )
    return " ".join(without_accents.casefold().split())


@functools.lru_cache(maxsize=256)
def _choices_by_key(choices: tuple[str, ...]) -> dict[str, str]:
    by_key = {}
    # Reversed so that when two choices differ only by accents or case, the first one wins.
    for choice in reversed(choices):
        by_key[_choice_key(choice)] = choice
    return by_key


def _match_choice(value, choices: tuple[str, ...]) -> str | None:
    if value in choices:
        return value
    text = value if isinstance(value, str) else str(value)
    return _choices_by_key(choices).get(_choice_key(text))


def _unknown_choice(value, choices: tuple[str, ...]) -> InvalidValue:
    # A country list would make every error message a screenful.
    shown = ", ".join(choices[:10]) + (", …" if len(choices) > 10 else "")
    return _invalid(
        _("unknown choice: %(value)s; expected one of: %(choices)s"), value, choices=shown
    )


def normalize_choice(value: str, choices: list[str]) -> str:
    """The choice `value` names, ignoring case, accents and extra spaces ('tres  BIEN' → 'Très bien')."""
    choices = tuple(choices)
    choice = _match_choice(value, choices)
    if choice is None:
        raise _unknown_choice(value, choices)
    return choice


_CHOICE_SEPARATORS = re.compile(r"[;,|]")


def normalize_multichoice(value, choices: list[str]) -> list[str]:
    """The choices named by a list or by 'a;b', 'a,b', 'a|b', without repeats, in `choices` order."""
    choices = tuple(choices)
    if isinstance(value, str):
        # A choice may itself contain a separator ('Paris, France').
        whole = _match_choice(value, choices)
        items = [whole] if whole is not None else _CHOICE_SEPARATORS.split(value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = [value]
    selected = set()
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        choice = _match_choice(item, choices)
        if choice is None:
            raise _unknown_choice(item, choices)
        selected.add(choice)
    return sorted(selected, key=choices.index)


def _normalize_text(value) -> str:
    # PostgreSQL refuses U+0000 in jsonb, and one such cell would fail a whole import batch.
    text = str(value).strip().replace("\x00", "")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidValue(
            _("text too long: %(length)d characters, at most %(limit)d")
            % {"length": len(text), "limit": MAX_TEXT_LENGTH}
        )
    return text


def _storable_integer(number: int, value) -> int:
    if not _SMALLEST_INTEGER <= number <= _LARGEST_INTEGER:
        raise _invalid(_("number too large: %(value)s"), value)
    return number


def _json_number(number: Decimal, value) -> int | float:
    # A JSON number, not a string, so that PostgreSQL jsonb and SQLite json_extract compare it
    # numerically (as text, '9' > '10'). Integral values are stored as int so that 12 and
    # '12,00' are the same JSON; a float keeps ~15 significant digits, plenty for a contact field.
    if number == number.to_integral_value():
        return _storable_integer(int(number), value)
    as_float = float(number)
    if math.isinf(as_float):
        raise _invalid(_("number too large: %(value)s"), value)
    return as_float


def normalize_field_value(
    field_type: str,
    value,
    *,
    choices: list[str] | None = None,
    region: str = "FR",
    tz: zoneinfo.ZoneInfo | None = None,
):
    """The JSON-serialisable canonical form of a custom field value, or None for no value.

    `tz` is the account's time zone, in which times without an offset are read (UTC if None).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match field_type:
        case "text":
            return _normalize_text(value)
        case "number":
            return _storable_integer(parse_integer(value), value)
        case "decimal":
            return _json_number(parse_decimal(value), value)
        case "date":
            # ISO dates compare and sort correctly as text.
            return parse_date(value).isoformat()
        case "datetime":
            moment = parse_datetime(value, tz or UTC)
            return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
        case "boolean":
            return parse_boolean(value)
        case "choice":
            return normalize_choice(value, _required_choices(choices))
        case "multichoice":
            # An empty selection is no value, like a blank cell: one spelling for "nothing".
            return normalize_multichoice(value, _required_choices(choices)) or None
        case "email":
            return normalize_email(value)
        case "phone":
            return normalize_phone(value, region)
        case "url":
            return normalize_url(value)
    raise ValueError(f"unknown field type: {field_type!r}")


def _required_choices(choices: list[str] | None) -> list[str]:
    if choices is None:
        raise ValueError("choice and multichoice fields need their list of choices")
    return choices
