"""Turn raw contact input (API JSON, an import row, a form) into canonical values.

Every write path goes through `ContactCleaner`, so what is stored is normalised the same way
whatever its origin, and errors name the field and say why.
"""

import zoneinfo
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts.models import Account
from contacts.models import BUILTIN_FIELDS, ContactField, FieldType, Salutation
from contacts.normalization import (
    InvalidValue,
    normalize_email,
    normalize_field_value,
    normalize_phone,
    parse_date,
)

_SALUTATIONS = {
    "m": Salutation.MR,
    "mr": Salutation.MR,
    "monsieur": Salutation.MR,
    "mister": Salutation.MR,
    "mme": Salutation.MRS,
    "madame": Salutation.MRS,
    "mrs": Salutation.MRS,
    "ms": Salutation.MRS,
    "mlle": Salutation.MRS,
    "mademoiselle": Salutation.MRS,
    "miss": Salutation.MRS,
}
_TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "zip_code": 20,
    "city": 100,
    "country": 100,
    "company": 200,
}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class CleanContact:
    """Canonical values of one input. `builtins` and `custom` hold only the fields given;
    a value of None means 'clear this field'."""

    key: str = ""
    builtins: dict = field(default_factory=dict)
    custom: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class ContactCleaner:
    """Loads the account's fields once, then cleans any number of inputs."""

    def __init__(self, account: Account, custom_fields: list[ContactField] | None = None):
        self.account = account
        self.region = account.default_phone_region
        self.tz = zoneinfo.ZoneInfo(account.timezone)
        if custom_fields is None:
            custom_fields = list(ContactField.objects.filter(account=account))
        self.custom_fields = {f.key: f for f in custom_fields}

    def clean(self, data: dict, *, blank_clears: bool = True) -> CleanContact:
        """`blank_clears`: an empty value clears the field (API) or is ignored (import)."""
        result = CleanContact()
        for name, value in data.items():
            if name == "fields":
                continue
            if name not in BUILTIN_FIELDS:
                result.errors[name] = _("unknown field")
                continue
            if _blank(value):
                if blank_clears:
                    result.builtins[name] = None
                continue
            try:
                result.builtins[name] = self._clean_builtin(name, value)
            except InvalidValue as error:
                result.errors[name] = str(error)
        custom_values = data.get("fields") or {}
        if not isinstance(custom_values, dict):
            result.errors["fields"] = _("must be an object of field key to value")
            custom_values = {}
        for key, value in custom_values.items():
            definition = self.custom_fields.get(key)
            if definition is None:
                result.errors[f"fields.{key}"] = _("unknown field")
                continue
            if _blank(value) or value == []:
                if blank_clears:
                    result.custom[key] = None
                continue
            try:
                result.custom[key] = normalize_field_value(
                    definition.type,
                    value,
                    choices=definition.choices,
                    region=self.region,
                    tz=self.tz,
                )
            except InvalidValue as error:
                result.errors[f"fields.{key}"] = str(error)
        key_field = self.account.contact_key
        key_value = result.builtins.get(key_field)
        if key_value:
            result.key = key_value
        return result

    def _clean_builtin(self, name: str, value):
        if name == "email":
            return normalize_email(str(value))
        if name == "mobile":
            return normalize_phone(str(value), self.region)
        if name == "birth_date":
            return parse_date(value).isoformat()
        if name == "salutation":
            canonical = _SALUTATIONS.get(str(value).strip().lower().rstrip("."))
            if canonical is None:
                raise InvalidValue(_("unknown salutation: %(value)s") % {"value": value})
            return canonical.value
        text = str(value).replace("\x00", "").strip()  # PostgreSQL cannot store NUL
        limit = _TEXT_LIMITS[name]
        if len(text) > limit:
            raise InvalidValue(_("longer than %(limit)d characters") % {"limit": limit})
        return text


def check_value_fits(field_type: str, value, *, choices, region: str, tz) -> str | None:
    """Why an already-stored value does not fit a new type, or None if it does."""
    try:
        normalize_field_value(
            field_type,
            value if not isinstance(value, list) else ";".join(map(str, value)),
            choices=choices,
            region=region,
            tz=tz,
        )
    except InvalidValue as error:
        return str(error)
    return None


__all__ = ["CleanContact", "ContactCleaner", "FieldType", "check_value_fits"]
