"""Contact search that ignores accents and case, and reads phone numbers typed the national way.

Both databases compare the same normalised text: `contact_search_text(email, first_name,
last_name, company, mobile)`, lower-case and without accents. On PostgreSQL it is an immutable SQL
function over the `unaccent` extension, with a trigram index on it (migration
0004_contact_search_unaccent), so that a search reads the index instead of every contact of a big
account; on SQLite it is this module's Python function, registered on each connection. Nothing is
stored: the write paths (forms, API, bulk upserts, the SQL import engine, COPY) need not know."""

import re
import unicodedata

import phonenumbers
from django.db.models import F, Func, Q, TextField

SEARCH_COLUMNS = ("email", "first_name", "last_name", "company", "mobile")
# What unaccent's rules turn into two letters; other accents are combining marks, dropped.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o"})
_PHONE_PUNCTUATION = re.compile(r"[\s.\-()/]")
_PHONE_LIKE = re.compile(r"\+?[\d\s.\-()/]{4,}")


def normalise(text: str) -> str:
    """Lower case, accents and ligatures flattened: "Élodie Lœuvre" → "elodie loeuvre"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def contact_search_text(*values) -> str:
    """The SQLite twin of the PostgreSQL function (same arguments, same result)."""
    return normalise(" ".join("" if value is None else str(value) for value in values))


class ContactSearchText(Func):
    function = "contact_search_text"
    output_field = TextField()

    def __init__(self):
        super().__init__(*(F(column) for column in SEARCH_COLUMNS))


def register_search_function(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "contact_search_text", len(SEARCH_COLUMNS), contact_search_text, deterministic=True
        )


def phone_forms(query: str, region: str) -> tuple[str | None, str | None]:
    """A phone number typed by a person: (its E.164 form if it is a whole valid number, the
    international prefix of what was typed if it looks like the start of a national number).
    "06 12 34 56 78" in France → ("+33612345678", "+33612345678"); "06 12" → (None, "+33612")."""
    if not _PHONE_LIKE.fullmatch(query):
        return None, None
    digits = _PHONE_PUNCTUATION.sub("", query)
    whole = None
    try:
        number = phonenumbers.parse(query, region or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        whole = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    prefix = None
    if digits.startswith("+"):
        prefix = digits
    elif digits.startswith("0") and not digits.startswith("00") and region:
        country_code = phonenumbers.country_code_for_region(region)
        if country_code:
            prefix = f"+{country_code}{digits[1:]}"
    return whole, prefix


def search_filter(query: str, region: str) -> tuple[dict, Q]:
    """The annotation to add and the condition matching `query` (already stripped)."""
    alias = {"search_text": ContactSearchText()}
    condition = Q(search_text__contains=normalise(query))
    whole, prefix = phone_forms(query, region)
    if whole:
        condition |= Q(mobile=whole)
    if prefix and prefix != query:
        condition |= Q(search_text__contains=prefix)
    return alias, condition
