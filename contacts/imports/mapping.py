"""Guess which contact field each column of an uploaded file holds, from its header.

The guess only pre-fills the mapping screen; the user confirms it. Headers are compared once
normalised, so "E-mail", "e_mail" and "E MAIL " are the same, and so are "Prénom" and "prenom".
"""

import re
import unicodedata

BUILTIN_FIELDS = (
    "email",
    "mobile",
    "salutation",
    "first_name",
    "last_name",
    "birth_date",
    "zip_code",
    "city",
    "country",
    "company",
)

_SYNONYMS = {
    "email": (
        "email",
        "e-mail",
        "mail",
        "courriel",
        "adresse email",
        "adresse e-mail",
        "adresse mail",
        "adresse electronique",
        "email address",
        "e-mail address",
        "mail address",
    ),
    "mobile": (
        "mobile",
        "portable",
        "telephone portable",
        "tel portable",
        "tel mobile",
        "telephone mobile",
        "numero de portable",
        "numero portable",
        "numero de mobile",
        "numero mobile",
        "gsm",
        "mobile phone",
        "mobile number",
        "cell",
        "cellphone",
        "cell phone",
        # Brevo (ex-Sendinblue) exports the mobile number in a column named SMS.
        "sms",
    ),
    "salutation": (
        "civilite",
        "civility",
        "salutation",
        "title",
        "titre",
        "genre",
        "gender",
        "sexe",
    ),
    "first_name": ("prenom", "first name", "firstname", "given name"),
    "last_name": ("nom", "nom de famille", "last name", "lastname", "surname", "family name"),
    "birth_date": (
        "date de naissance",
        "date naissance",
        "naissance",
        "birth date",
        "birthdate",
        "date of birth",
        "dob",
        "birthday",
        "anniversaire",
    ),
    "zip_code": ("code postal", "cp", "zip", "zip code", "zipcode", "postal code", "postcode"),
    "city": ("ville", "city", "commune", "localite", "town"),
    "country": ("pays", "country"),
    "company": (
        "societe",
        "entreprise",
        "company",
        "raison sociale",
        "organisation",
        "organization",
    ),
}

# Generic phone words may name a landline. They still map to mobile, but a column with an
# explicit mobile name wins over them wherever it sits: "Téléphone;Portable" keeps "Portable".
_WEAK_SYNONYMS = {
    "mobile": (
        "phone",
        "phone number",
        "telephone",
        "tel",
        "numero de telephone",
        "n de telephone",
        "no de telephone",
    ),
}

_STRONG, _WEAK = 0, 1


def normalise_header(text: str) -> str:
    """Lower-case, without accents, with runs of non-alphanumerics turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", without_accents).strip()


def _build_lookup() -> dict[str, tuple[str, int]]:
    lookup = {normalise_header(field): (field, _STRONG) for field in BUILTIN_FIELDS}
    for rank, synonyms in ((_STRONG, _SYNONYMS), (_WEAK, _WEAK_SYNONYMS)):
        for field, names in synonyms.items():
            for name in names:
                lookup.setdefault(normalise_header(name), (field, rank))
    return lookup


_BUILTIN_LOOKUP = _build_lookup()


def propose_mapping(header: list[str], custom_fields: dict[str, str]) -> list[str | None]:
    """Return a field key (or None, column ignored) for each column of `header`.

    `custom_fields` maps the account's custom field keys to their labels; a column matches one
    by key or by label. A built-in field wins when a header could be both. A field is given to
    one column only: the first one, except that a weak phone synonym yields to an explicit one.
    """
    custom_lookup: dict[str, str] = {}
    for key in custom_fields:
        custom_lookup.setdefault(normalise_header(key), key)
    for key, label in custom_fields.items():
        custom_lookup.setdefault(normalise_header(label), key)

    candidates: list[tuple[int, int, str]] = []
    for index, name in enumerate(header):
        normalised = normalise_header(name)
        if not normalised:
            continue
        if normalised in _BUILTIN_LOOKUP:
            field, rank = _BUILTIN_LOOKUP[normalised]
            candidates.append((rank, index, field))
        elif normalised in custom_lookup:
            candidates.append((_STRONG, index, custom_lookup[normalised]))

    mapping: list[str | None] = [None] * len(header)
    taken: set[str] = set()
    for _rank, index, field in sorted(candidates):
        if field not in taken:
            taken.add(field)
            mapping[index] = field
    return mapping
