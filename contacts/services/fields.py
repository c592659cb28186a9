"""Custom fields: create, rename, change type (checked against stored values), delete."""

import zoneinfo

from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.models import Account
from contacts.cleaning import check_value_fits
from contacts.models import BUILTIN_FIELDS, Contact, ContactField, FieldOrigin, FieldType
from contacts.normalization import normalize_field_value
from contacts.typed_values import (
    MAX_SLOTS,
    STORAGE_OF_TYPE,
    free_slot,
    slot_clear,
    typed_values_refresh,
)

CHOICE_TYPES = {FieldType.CHOICE, FieldType.MULTICHOICE}
MAX_REPORTED_MISFITS = 20


class FieldError(ServiceError):
    pass


class FieldKeyTaken(FieldError, ConflictError):
    """The key is a built-in field's or another custom field's (HTTP 409)."""


class FieldRoomExhausted(FieldError, ConflictError):
    """The account has no free slot left for another field of this type (HTTP 409)."""


class FieldTypeChangeRefused(FieldError):
    """Stored values would not fit the new type. `misfits`: the first ones, as (contact id, value,
    reason); `total`: how many. The type's message lists them, for API clients."""

    def __init__(self, misfits: list[tuple[int, object, str]], total: int):
        self.misfits = misfits
        self.total = total
        summary = _("%(n)d stored values do not fit this type; nothing was changed.") % {"n": total}
        lines = [
            f"contact {contact_id}: {value!r}: {reason}" for contact_id, value, reason in misfits
        ]
        super().__init__({"type": [summary, *lines]})


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
    _lock_fields(account.pk)
    if key in BUILTIN_FIELDS:
        raise FieldKeyTaken({"key": _("“%(key)s” is a built-in field") % {"key": key}})
    if ContactField.objects.filter(account=account, key=key).exists():
        raise FieldKeyTaken({"key": _("a field with this key already exists")})
    field = ContactField(
        account=account,
        key=key,
        label=label.strip(),
        type=type,
        origin=origin,
        choices=_clean_choices(type, choices),
    )
    field.full_clean()
    field.slot = _slot_for(field, type)
    field.save()
    return field


def _slot_for(field: ContactField, field_type: str) -> int | None:
    """A free position in the typed array holding `field_type` values (None: JSON only)."""
    column = STORAGE_OF_TYPE.get(field_type)
    if column is None:
        return None
    slot = free_slot(field.account_id, column, exclude_field_id=field.pk)
    if slot is None:
        raise FieldRoomExhausted(
            {
                "type": _("an account can have at most %(count)d fields of this kind")
                % {"count": MAX_SLOTS}
            }
        )
    slot_clear(field.account_id, column, slot)
    return slot


def _lock_fields(account_id: int) -> None:
    """Field changes one at a time per account, and never during a contact write's transaction
    (writers hold KEY SHARE on the row, see typed_values.layout_for_writing): a slot is never
    given, moved or freed under a writer that read the layout before."""
    Account.objects.select_for_update().filter(pk=account_id).first()


@transaction.atomic
def field_update(
    *,
    field: ContactField,
    label: str | None = None,
    type: str | None = None,
    choices: list[str] | None = None,
) -> ContactField:
    """Rename, or change the type/choices: every stored value must fit, or nothing changes."""
    _lock_fields(field.account_id)
    new_type = type or field.type
    new_choices = _clean_choices(new_type, choices if choices is not None else field.choices)
    if new_type != field.type or new_choices != field.choices:
        _convert_values(field, new_type, new_choices)
        old_type = field.type
        field.type, field.choices = new_type, new_choices
        if STORAGE_OF_TYPE.get(new_type) != STORAGE_OF_TYPE.get(old_type):
            field.slot = _slot_for(field, new_type)
        if new_type != old_type and (field.slot or STORAGE_OF_TYPE.get(old_type)):
            field.save(update_fields=["type", "choices", "slot"])
            # The converted values, in their (maybe new) array; the old slot is emptied.
            typed_values_refresh(field.account_id, only_key=field.key)
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
    _lock_fields(field.account_id)
    column = STORAGE_OF_TYPE.get(field.type) if field.slot else None
    with connection.cursor() as cursor:
        table = Contact._meta.db_table
        if connection.vendor == "postgresql":
            # Its slot in the typed array is emptied too, before another field may reuse it.
            typed = f", {column}[{int(field.slot)}] = NULL" if column else ""
            cursor.execute(
                f"UPDATE {table} SET fields = fields - %s{typed} "  # noqa: S608
                "WHERE account_id = %s AND fields ? %s",
                [field.key, field.account_id, field.key],
            )
        else:
            path = f'$."{field.key}"'  # the key is a validated [a-z0-9_] slug
            typed = (
                f", {column} = json_replace({column}, '$[{int(field.slot) - 1}]', NULL)"
                if column
                else ""
            )
            cursor.execute(
                f"UPDATE {table} SET fields = json_remove(fields, %s){typed} "  # noqa: S608
                "WHERE account_id = %s AND json_type(fields, %s) IS NOT NULL",
                [path, field.account_id, path],
            )
    field.delete()
