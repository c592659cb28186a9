"""Custom fields: create, rename, change type (checked against stored values), delete."""

import zoneinfo

from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.models import Account
from contacts.cleaning import check_value_fits
from contacts.models import BUILTIN_FIELDS, Contact, ContactField, FieldOrigin, FieldType
from contacts.normalization import normalize_field_value

CHOICE_TYPES = {FieldType.CHOICE, FieldType.MULTICHOICE}
MAX_REPORTED_MISFITS = 20


class FieldError(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class FieldTypeChangeRefused(Exception):
    """Stored values that would not fit the new type, as (contact id, value, reason)."""

    def __init__(self, misfits: list[tuple[int, object, str]], total: int):
        super().__init__(f"{total} values do not fit")
        self.misfits = misfits
        self.total = total


def _clean_choices(field_type: str, choices) -> list[str]:
    if field_type not in CHOICE_TYPES:
        return []
    cleaned = []
    for choice in choices or []:
        text = str(choice).strip()
        if text and text not in cleaned:
            cleaned.append(text)
    if not cleaned:
        raise FieldError({"choices": _("a choice field needs at least one choice")})
    return cleaned


@transaction.atomic
def field_create(
    *,
    account: Account,
    key: str,
    label: str,
    type: str,
    choices: list[str] | None = None,
    origin: str = FieldOrigin.CUSTOM,
) -> ContactField:
    if key in BUILTIN_FIELDS:
        raise FieldError({"key": _("“%(key)s” is a built-in field") % {"key": key}})
    if ContactField.objects.filter(account=account, key=key).exists():
        raise FieldError({"key": _("a field with this key already exists")})
    field = ContactField(
        account=account,
        key=key,
        label=label.strip(),
        type=type,
        origin=origin,
        choices=_clean_choices(type, choices),
    )
    field.full_clean()
    field.save()
    return field


@transaction.atomic
def field_update(
    *,
    field: ContactField,
    label: str | None = None,
    type: str | None = None,
    choices: list[str] | None = None,
) -> ContactField:
    """Rename, or change the type/choices: every stored value must fit, or nothing changes."""
    new_type = type or field.type
    new_choices = _clean_choices(new_type, choices if choices is not None else field.choices)
    if new_type != field.type or new_choices != field.choices:
        _convert_values(field, new_type, new_choices)
        field.type, field.choices = new_type, new_choices
    if label is not None:
        field.label = label.strip()
    field.full_clean()
    field.save()
    return field


def _convert_values(field: ContactField, new_type: str, new_choices: list[str]) -> None:
    account = field.account
    tz = zoneinfo.ZoneInfo(account.timezone)
    holders = (
        Contact.objects.select_for_update()
        .filter(account=account, fields__has_key=field.key)
        .only("pk", "fields")
        .order_by("pk")
    )
    misfits, total, converted = [], 0, []
    for contact in holders.iterator(chunk_size=2000):
        value = contact.fields[field.key]
        reason = check_value_fits(
            new_type, value, choices=new_choices, region=account.default_phone_region, tz=tz
        )
        if reason:
            total += 1
            if len(misfits) < MAX_REPORTED_MISFITS:
                misfits.append((contact.pk, value, reason))
            continue
        raw = ";".join(map(str, value)) if isinstance(value, list) else value
        contact.fields[field.key] = normalize_field_value(
            new_type, raw, choices=new_choices, region=account.default_phone_region, tz=tz
        )
        converted.append(contact)
    if total:
        raise FieldTypeChangeRefused(misfits, total)
    Contact.objects.bulk_update(converted, ["fields"], batch_size=1000)


@transaction.atomic
def field_delete(*, field: ContactField) -> None:
    """Deleting a field deletes its values from every contact, in one statement."""
    with connection.cursor() as cursor:
        table = Contact._meta.db_table
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET fields = fields - %s WHERE account_id = %s AND fields ? %s",  # noqa: S608
                [field.key, field.account_id, field.key],
            )
        else:
            path = f'$."{field.key}"'  # the key is a validated [a-z0-9_] slug
            cursor.execute(
                f"UPDATE {table} SET fields = json_remove(fields, %s) "  # noqa: S608
                "WHERE account_id = %s AND json_type(fields, %s) IS NOT NULL",
                [path, field.account_id, path],
            )
    field.delete()
