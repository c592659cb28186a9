"""Insert and update contacts: one at a time (API, UI) or by the thousand (bulk API, imports).

Everything funnels into `contacts_bulk_upsert`, so a contact is normalised, deduplicated,
consent-checked and ledgered the same way whatever its origin.
"""

import copy
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.domain_events import send_each_on_commit, send_on_commit
from accounts.errors import ServiceError
from accounts.lookups import among
from accounts.models import Account
from contacts.cleaning import CleanContact, ContactCleaner
from contacts.models import (
    BUILTIN_FIELDS,
    Channel,
    ConsentStatus,
    Contact,
    ContactList,
    DuplicatePolicy,
    ListMembership,
    Suppression,
    address_hash,
    stored_mobile,
)
from contacts.normalization import phone_number_from_e164
from contacts.services.bulk_write import (
    consent_records_insert,
    contacts_insert,
    contacts_update,
)
from contacts.services.consent import (
    ConsentProof,
    channel_address,
    consent_change,
    status_after,
    suppressed_hashes,
    suppression_add,
)
from contacts.signals import contact_created, contact_unsubscribed, contact_updated
from contacts.typed_values import TYPED_COLUMNS, layout_for_writing

STATUS_FIELDS = {Channel.EMAIL: "email_status", Channel.SMS: "sms_status"}
# Choices.values builds a new list at each call: checked for every row of an import.
KNOWN_STATUSES = frozenset(ConsentStatus.values)
MAX_BULK_ROWS = 1000


class ContactDataError(ServiceError):
    """Invalid contact input; `fields` says which field and why."""


@dataclass
class RowOutcome:
    status: str  # created, updated, skipped, error
    contact: Contact | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # An "updated" row whose contact the write changed (False: it already held these values).
    changed: bool = False

    @property
    def contact_id(self) -> int | None:
        return self.contact.pk if self.contact else None


@dataclass
class _Pending:
    """One contact key within a batch: the input rows that target it, merged in order."""

    clean: CleanContact
    statuses: dict[str, str]
    row_indexes: list[int]


def _requested_statuses(data: dict, defaults: dict[str, str]) -> tuple[dict[str, str], dict]:
    statuses, errors = dict(defaults), {}
    for channel, status_field in STATUS_FIELDS.items():
        value = data.get(status_field)
        if value in (None, ""):
            continue
        if value not in KNOWN_STATUSES:
            errors[status_field] = _("unknown consent status: %(value)s") % {"value": value}
        else:
            statuses[channel] = value
    return statuses, errors


def _current(contact: Contact, name: str):
    if name == "mobile":
        # Compare E.164 strings: PhoneNumber equality re-validates both numbers, at ~20 µs each.
        return stored_mobile(contact)
    return getattr(contact, name)


def _apply(contact: Contact, clean: CleanContact) -> bool:
    """Write clean values onto a contact; True when something changed."""
    changed = False
    for name, value in clean.builtins.items():
        stored = "" if value is None and name != "birth_date" else value
        if name == "birth_date" and value is not None:
            stored = date.fromisoformat(value)
        if _current(contact, name) != stored:
            if name == "mobile" and stored:
                contact.mobile = phone_number_from_e164(stored)
            else:
                setattr(contact, name, stored)
            changed = True
    if clean.custom:
        merged = dict(contact.fields or {})
        for key, value in clean.custom.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if merged != contact.fields:
            contact.fields = merged
            changed = True
    return changed


def contacts_bulk_upsert(
    *,
    account: Account,
    rows: list[dict],
    policy: str = DuplicatePolicy.UPDATE,
    proof: ConsentProof,
    default_statuses: dict[str, str] | None = None,
    target_list: ContactList | None = None,
    blank_clears: bool = True,
    cleaner: ContactCleaner | None = None,
    send_events: bool = True,
) -> list[RowOutcome]:
    """Create or update each row by the account's contact key; one outcome per row.

    A bad row gets an error outcome and the others are still written. Rows of the same batch with
    the same key are merged in order (the later value wins).

    Each contact created, updated or unsubscribed is announced after commit (contacts.signals),
    with the proof's source; an import passes `send_events=False` and announces itself once.
    """
    try:
        return _bulk_upsert(
            account,
            rows,
            policy,
            proof,
            default_statuses or {},
            target_list,
            blank_clears,
            cleaner,
            send_events,
        )
    except IntegrityError:
        # Another writer inserted one of these keys in between: run again, they now exist.
        return _bulk_upsert(
            account,
            rows,
            policy,
            proof,
            default_statuses or {},
            target_list,
            blank_clears,
            cleaner,
            send_events,
        )


@transaction.atomic
def _bulk_upsert(
    account, rows, policy, proof, default_statuses, target_list, blank_clears, cleaner, send_events
):
    cleaner = cleaner or ContactCleaner(account)
    # Read in each transaction: a cleaner may serve a long import while fields change.
    layout = layout_for_writing(account.pk)
    key_field = account.contact_key
    outcomes: list[RowOutcome | None] = [None] * len(rows)
    pending: dict[str, _Pending] = {}

    for index, data in enumerate(rows):
        content = {k: v for k, v in data.items() if k not in STATUS_FIELDS.values()}
        clean = cleaner.clean(content, blank_clears=blank_clears)
        statuses, status_errors = _requested_statuses(data, default_statuses)
        clean.errors.update(status_errors)
        if not clean.errors and not clean.key:
            clean.errors[key_field] = _("required: it identifies the contact")
        if clean.errors:
            outcomes[index] = RowOutcome("error", errors=clean.errors)
            continue
        existing = pending.get(clean.key)
        if existing is None:
            pending[clean.key] = _Pending(clean, statuses, [index])
        else:
            existing.clean.builtins.update(clean.builtins)
            existing.clean.custom.update(clean.custom)
            existing.statuses.update(statuses)
            existing.row_indexes.append(index)

    found = {
        contact.key: contact
        for contact in Contact.objects.select_for_update()
        .filter(among("key", pending), account=account)
        .order_by("pk")
    }
    hashes = {Channel.EMAIL: set(), Channel.SMS: set()}
    for item in pending.values():
        if item.clean.builtins.get("email"):
            hashes[Channel.EMAIL].add(address_hash(item.clean.builtins["email"]))
        if item.clean.builtins.get("mobile"):
            hashes[Channel.SMS].add(address_hash(item.clean.builtins["mobile"]))
    # A row may leave out an address the contact already has: a consent asked for that channel
    # applies to the stored address, so its suppression must be known too.
    for contact in found.values():
        for channel in (Channel.EMAIL, Channel.SMS):
            stored = channel_address(contact, channel)
            if stored:
                hashes[channel].add(address_hash(stored))
    suppressed = {
        channel: suppressed_hashes(account, channel, channel_hashes) if channel_hashes else set()
        for channel, channel_hashes in hashes.items()
    }

    to_create, to_update, ledger, unsubscribes = [], [], [], []
    blank = Contact(account=account, fields={})
    updated_fields: set[str] = set()
    now = timezone.now()
    for key, item in pending.items():
        contact = found.get(key)
        is_new = contact is None
        if is_new and policy == DuplicatePolicy.UPDATE_ONLY:
            for index in item.row_indexes:
                outcomes[index] = RowOutcome("skipped", errors={key_field: _("no such contact")})
            continue
        if not is_new and policy == DuplicatePolicy.SKIP:
            for index in item.row_indexes:
                outcomes[index] = RowOutcome("skipped", contact=contact)
            continue
        if is_new:
            # A copy of a blank contact costs half of Model.__init__ (every field's default,
            # the phone field's region); its typed arrays are set anew by layout.apply below.
            contact = copy.copy(blank)
            contact.key, contact.fields = key, {}
        changed = _apply(contact, item.clean)
        changed_fields = {name for name in item.clean.builtins if name in BUILTIN_FIELDS}
        if item.clean.custom or is_new:
            layout.apply(contact)
            changed_fields |= {"fields", *TYPED_COLUMNS}
        for channel, requested in item.statuses.items():
            address = channel_address(contact, channel)
            if not address:
                continue
            status_field = STATUS_FIELDS[channel]
            current = getattr(contact, status_field)
            new_status = status_after(
                current=current,
                requested=requested,
                suppressed=address_hash(address) in suppressed[channel],
                source=proof.source,
            )
            if new_status != current or is_new:
                setattr(contact, status_field, new_status)
                changed_fields.add(status_field)
                changed = True
                ledger.append((contact, channel, new_status))
                if new_status == ConsentStatus.UNSUBSCRIBED:
                    unsubscribes.append((contact, channel, address))
        if is_new:
            to_create.append(contact)
        elif changed:
            contact.updated_at = now
            to_update.append(contact)
            updated_fields |= changed_fields
        for position, index in enumerate(item.row_indexes):
            first_time_seen = is_new and position == 0
            outcomes[index] = RowOutcome(
                "created" if first_time_seen else "updated", contact, changed=is_new or changed
            )

    contacts_insert(to_create)
    contacts_update(to_update, sorted(updated_fields | {"updated_at"}))
    consent_records_insert(ledger, proof)
    for _contact, channel, address in unsubscribes:
        suppression_add(
            account=account,
            channel=channel,
            address=address,
            reason=Suppression.Reason.UNSUBSCRIBED,
        )
    if target_list is not None:
        members = {o.contact.pk for o in outcomes if o and o.contact and o.status != "error"}
        ListMembership.objects.bulk_create(
            [ListMembership(contact_list=target_list, contact_id=pk) for pk in members],
            ignore_conflicts=True,
            batch_size=1000,
        )
    if send_events:
        _announce(account, proof.source, to_create, to_update, unsubscribes)
    return outcomes


def _announce(account, source, created, updated, unsubscribes) -> None:
    """The domain events of one bulk write, each sent once the write commits."""
    for signal, contacts in ((contact_created, created), (contact_updated, updated)):
        send_each_on_commit(
            signal,
            Contact,
            [{"account_id": account.pk, "contact_id": c.pk, "source": source} for c in contacts],
        )
    send_each_on_commit(
        contact_unsubscribed,
        Contact,
        [
            {"account_id": account.pk, "contact_id": c.pk, "channel": channel, "source": source}
            for c, channel, _address in unsubscribes
        ],
    )


def contact_upsert(
    *, account: Account, data: dict, proof: ConsentProof, policy: str = DuplicatePolicy.UPDATE
) -> tuple[Contact, bool]:
    """One contact by its key. Raises ContactDataError with the per-field reasons."""
    outcome = contacts_bulk_upsert(account=account, rows=[data], policy=policy, proof=proof)[0]
    if outcome.status == "error":
        raise ContactDataError(outcome.errors)
    return outcome.contact, outcome.status == "created"


@transaction.atomic
def contact_update(*, contact: Contact, data: dict, proof: ConsentProof) -> Contact:
    """Change a known contact (by id). Its key may change, if no other contact has the new one."""
    account = contact.account
    cleaner = ContactCleaner(account)
    content = {k: v for k, v in data.items() if k not in STATUS_FIELDS.values()}
    clean = cleaner.clean(content, blank_clears=True)
    statuses, status_errors = _requested_statuses(data, {})
    clean.errors.update(status_errors)
    key_field = account.contact_key
    if key_field in clean.builtins and clean.builtins[key_field] is None:
        clean.errors[key_field] = _("required: it identifies the contact")
    key_taken = (
        clean.key
        and clean.key != contact.key
        and Contact.objects.filter(account=account, key=clean.key).exclude(pk=contact.pk).exists()
    )
    if key_taken:
        clean.errors[key_field] = _("another contact already has this value")
    if clean.errors:
        raise ContactDataError(clean.errors)
    _apply(contact, clean)
    if clean.key:
        contact.key = clean.key
    # The typed copies of `fields` are derived here, by the writer, under the layout's lock.
    layout_for_writing(account.pk).apply(contact)
    contact.save()
    send_on_commit(
        contact_updated,
        sender=Contact,
        account_id=account.pk,
        contact_id=contact.pk,
        source=proof.source,
    )
    for channel, status in statuses.items():
        if status != getattr(contact, STATUS_FIELDS[channel]):
            consent_change(contact=contact, channel=channel, status=status, proof=proof)
    return contact


def contact_delete(*, contact: Contact) -> None:
    contact.delete()
