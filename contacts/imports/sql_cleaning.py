"""The common, unambiguous cases of contacts.normalization, as PostgreSQL expressions.

The PostgreSQL import engine (contacts/imports/postgres_engine.py) stages raw cells in
PostgreSQL and cleans them there. Each expression built here answers, for one cell, either the
canonical text that contacts.normalization would produce, '' for a blank cell, or NULL when SQL
cannot be sure.
A row with any NULL goes through ContactCleaner in Python, which also writes every error
message: SQL never refuses a value, so results and reports are the Python path's own.

Only the cases that are cheap to prove equal are settled here: ASCII addresses matching the same
pattern as normalization._PLAIN_EMAIL, French numbers validated against phonenumbers' own
metadata, ISO and DD/MM/YYYY dates (month lengths and leap years checked), plain integers,
decimals of at most 15 significant digits (whose float round trip is exact), yes/no words,
exact choices, and text within its length limit. Everything else (IDN domains, foreign or odd
phone numbers, two-digit years, grouped thousands…) is left to Python.
"""

from dataclasses import dataclass, field

from phonenumbers import PhoneMetadata

from contacts.cleaning import _SALUTATIONS, _TEXT_LIMITS
from contacts.models import ContactField, FieldType
from contacts.normalization import _BOOLEAN_WORDS, _MAX_EMAIL_LENGTH, MAX_TEXT_LENGTH

# normalization._PLAIN_EMAIL, anchored. Matched on lower(cell COLLATE "C"), which lowers ASCII
# letters only: a cell whose Python lower() differs (non-ASCII letters) fails the pattern.
# PostgreSQL's regex engine takes ~7 µs on the {0,61} and {2,63} bounds nested in a repeat, so
# they are checked apart: in the domain part, a run of [a-z0-9-] is exactly one label, so "no
# such run of 64" is "every label has at most 63 characters", and it cannot happen in a string
# shorter than 64 characters.
EMAIL_PATTERN = (
    r"^[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z]+$"
)
EMAIL_LONG_LABEL_PATTERN = r"@.*[a-z0-9-]{64}"
# PostgreSQL's regex engine is slow on bounded repeats ({1,18} costs 3× [0-9]+): lengths are
# checked with char_length instead.
INTEGER_PATTERN = r"^[-+]?[0-9]+$"
MAX_INTEGER_DIGITS = 18
# At most 15 significant digits: float(Decimal(text)) then prints back as the same number
# (normalization._json_number stores a float), which is what trim_scale(numeric) gives.
DECIMAL_PATTERN = r"^[-+]?[0-9]+(?:[.,][0-9]+)?$"
MAX_DECIMAL_DIGITS = 15
# Two-digit day and month of a date that exists in every year; 29 February (leap years), one
# digit days or months and two-digit years (which depend on today in Python) are left to it.
_DAY_MONTH = (
    "(?:0[1-9]|1[0-9]|2[0-8])/(?:0[1-9]|1[0-2])|(?:29|30)/(?:0[13-9]|1[0-2])|31/(?:0[13578]|1[02])"
)
_MONTH_DAY = (
    "(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31"
)
ISO_DATE_PATTERN = f"^[0-9][0-9][0-9][0-9]-(?:{_MONTH_DAY})$"
# Matched once '.' and '-' are turned into '/'; the two separators must then be the same.
FRENCH_DATE_PATTERN = f"^(?:{_DAY_MONTH})/[0-9][0-9][0-9][0-9]$"


def french_phone_patterns(region: str) -> list[str]:
    """What normalization._french_e164_or_none accepts, validity included, as patterns that the
    cell without spaces, dots and dashes must all match (other separators are left to Python).

    The first pattern is the shape Python's regex accepts; the others are built from
    phonenumbers' metadata for FR, as is_valid_number_for_region checks: the national number
    must match the general description and one number type.
    """
    metadata = PhoneMetadata.metadata_for_region("FR")
    descriptions = (
        metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
        metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail,
        metadata.fixed_line, metadata.mobile,
    )  # fmt: skip
    types = [
        f"(?:{description.national_number_pattern})"
        for description in descriptions
        if description is not None
        and description.national_number_pattern
        and (not description.possible_length or 9 in description.possible_length)
    ]
    # '0…' and '0033…' are French dialling habits: international only with '+33'.
    prefix = r"(?:\+33|0033|0)" if region.upper() == "FR" else r"\+33"
    patterns = [f"^{prefix}[1-9]{'[0-9]' * 8}$", rf"^(?:{'|'.join(types)})$"]
    general = metadata.general_desc.national_number_pattern
    if general != r"[1-9]\d{8}":  # otherwise the shape pattern has checked it
        patterns.append(rf"^(?:{general})$")
    return patterns


@dataclass
class SqlExpr:
    sql: str
    params: list = field(default_factory=list)


def _case_blank(cell: str, settled: str, params: list, *, required: bool) -> SqlExpr:
    # A blank cell is no value ('') unless it holds the contact key, which Python reports.
    blank = "NULL" if required else "''"
    return SqlExpr(f"(CASE WHEN {cell} = '' THEN {blank} {settled} END)", params)


def _email(cell: str, required: bool) -> SqlExpr:
    lowered = f'lower({cell} COLLATE "C")'
    return _case_blank(
        cell,
        f"WHEN char_length({cell}) <= %s AND {lowered} ~ %s AND (char_length({cell}) < 64 "
        f"OR {lowered} !~ %s) THEN {lowered}",
        [_MAX_EMAIL_LENGTH, EMAIL_PATTERN, EMAIL_LONG_LABEL_PATTERN],
        required=required,
    )


def _phone(cell: str, required: bool, region: str) -> SqlExpr:
    compact = f"replace(replace(replace({cell}, ' ', ''), '.', ''), '-', '')"
    shape, *validity = french_phone_patterns(region)
    # The national number is the last nine digits: the three prefixes have different lengths.
    national = f"right({compact}, 9)"
    checks = " AND ".join([f"{compact} ~ %s", *(f"{national} ~ %s" for _pattern in validity)])
    return _case_blank(
        cell,
        f"WHEN {checks} THEN '+33' || {national}",
        [shape, *validity],
        required=required,
    )


def _date(cell: str) -> SqlExpr:
    french = f"substr({cell}, 7, 4) || '-' || substr({cell}, 4, 2) || '-' || substr({cell}, 1, 2)"
    return _case_blank(
        cell,
        f"WHEN {cell} ~ %s AND {cell} NOT LIKE '0000%%' THEN {cell} "
        f"WHEN translate({cell}, '.-', '//') ~ %s AND substr({cell}, 3, 1) = substr({cell}, 6, 1) "
        f"AND substr({cell}, 7, 4) <> '0000' THEN {french}",
        [ISO_DATE_PATTERN, FRENCH_DATE_PATTERN],
        required=False,
    )


def _words(cell: str, words: dict[str, str], lowered: str) -> SqlExpr:
    whens = " ".join("WHEN %s THEN %s" for _word in words)
    params = [item for pair in words.items() for item in pair]
    return _case_blank(cell, f"ELSE CASE {lowered} {whens} END", params, required=False)


def _text(cell: str, limit: int) -> SqlExpr:
    # Cells arrive stripped, and rows holding NUL characters are sent to Python.
    return _case_blank(cell, f"WHEN char_length({cell}) <= %s THEN {cell}", [limit], required=False)


def _unsettled(cell: str) -> SqlExpr:
    return _case_blank(cell, "", [], required=False)


def builtin_cell(name: str, cell: str, *, key_field: str, region: str) -> SqlExpr:
    """Canonical text of a built-in field's cell ('' blank, NULL when Python must decide)."""
    required = name == key_field
    if name == "email":
        return _email(cell, required)
    if name == "mobile":
        return _phone(cell, required, region)
    if name == "birth_date":
        return _date(cell)
    if name == "salutation":
        words = {word: salutation.value for word, salutation in _SALUTATIONS.items()}
        return _words(cell, words, f"""rtrim(lower({cell} COLLATE "C"), '.')""")
    return _text(cell, _TEXT_LIMITS[name])


# How each custom field type's canonical text becomes the JSON value Python would store.
_JSON_OF = {
    FieldType.NUMBER: "to_jsonb({}::bigint)",
    FieldType.DECIMAL: "to_jsonb(trim_scale({}::numeric))",
    FieldType.BOOLEAN: "to_jsonb({}::boolean)",
}


def custom_cell(definition: ContactField, cell: str, *, region: str) -> tuple[SqlExpr, str]:
    """(canonical text of the cell, template turning that text into the stored JSON value)."""
    match definition.type:
        case FieldType.TEXT:
            expr = _text(cell, MAX_TEXT_LENGTH)
        case FieldType.NUMBER:
            expr = _case_blank(
                cell,
                f"WHEN {cell} ~ %s AND char_length(ltrim({cell}, '+-')) <= %s THEN {cell}",
                [INTEGER_PATTERN, MAX_INTEGER_DIGITS],
                required=False,
            )
        case FieldType.DECIMAL:
            expr = _case_blank(
                cell,
                f"WHEN {cell} ~ %s AND char_length(translate({cell}, '+-.,', '')) <= %s "
                f"THEN translate({cell}, ',', '.')",
                [DECIMAL_PATTERN, MAX_DECIMAL_DIGITS],
                required=False,
            )
        case FieldType.DATE:
            expr = _date(cell)
        case FieldType.BOOLEAN:
            words = {word: "true" if value else "false" for word, value in _BOOLEAN_WORDS.items()}
            expr = _words(cell, words, f'lower({cell} COLLATE "C")')
        case FieldType.CHOICE:
            expr = _case_blank(
                cell,
                f"WHEN {cell} = ANY(%s) THEN {cell}",
                [list(definition.choices)],
                required=False,
            )
        case FieldType.EMAIL:
            expr = _email(cell, False)
        case FieldType.PHONE:
            expr = _phone(cell, False, region)
        case _:
            expr = _unsettled(cell)
    return expr, _JSON_OF.get(definition.type, "to_jsonb({})")


__all__ = ["SqlExpr", "builtin_cell", "custom_cell", "french_phone_patterns"]
