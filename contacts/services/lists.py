"""Static lists and their members."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.domain_events import send_on_commit
from accounts.errors import ConflictError, ServiceError
from accounts.models import Account
from contacts.models import Contact, ContactList, ListMembership
from contacts.signals import contacts_joined_list


class ListError(ServiceError):
    pass


class ListNameTaken(ListError, ConflictError):
    """Another list of the account has this name (HTTP 409: the state, not the request, is at
    fault)."""


def list_create(*, account: Account, name: str, description: str = "") -> ContactList:
    try:
        with transaction.atomic():
            return ContactList.objects.create(
                account=account, name=name.strip(), description=description
            )
    except IntegrityError as error:
        raise ListNameTaken({"name": _("a list with this name already exists")}) from error


def list_update(*, contact_list: ContactList, name=None, description=None) -> ContactList:
    if name is not None:
        contact_list.name = name.strip()
    if description is not None:
        contact_list.description = description
    try:
        with transaction.atomic():
            contact_list.save()
    except IntegrityError as error:
        raise ListNameTaken({"name": _("a list with this name already exists")}) from error
    return contact_list


def list_delete(*, contact_list: ContactList) -> None:
    contact_list.delete()


@transaction.atomic
def list_add_contacts(*, contact_list: ContactList, contact_ids: list[int]) -> int:
    """Add (or re-subscribe to the list) the account's contacts among `contact_ids`."""
    ids = list(
        Contact.objects.filter(account_id=contact_list.account_id, pk__in=contact_ids).values_list(
            "pk", flat=True
        )
    )
    announce = contacts_joined_list.has_listeners(ContactList)
    if announce:
        already = set(
            ListMembership.objects.filter(
                contact_list=contact_list,
                contact_id__in=ids,
                status=ListMembership.Status.SUBSCRIBED,
            ).values_list("contact_id", flat=True)
        )
    ListMembership.objects.bulk_create(
        [ListMembership(contact_list=contact_list, contact_id=pk) for pk in ids],
        ignore_conflicts=True,
        batch_size=1000,
    )
    ListMembership.objects.filter(
        contact_list=contact_list, contact_id__in=ids, status=ListMembership.Status.UNSUBSCRIBED
    ).update(status=ListMembership.Status.SUBSCRIBED, updated_at=timezone.now())
    joined = [pk for pk in ids if pk not in already] if announce else []
    if joined:
        send_on_commit(
            contacts_joined_list,
            sender=ContactList,
            account_id=contact_list.account_id,
            list_id=contact_list.pk,
            contact_ids=joined,
        )
    return len(ids)


@transaction.atomic
def list_remove_contacts(*, contact_list: ContactList, contact_ids: list[int]) -> int:
    deleted, _rows = ListMembership.objects.filter(
        contact_list=contact_list, contact_id__in=contact_ids
    ).delete()
    return deleted


def list_unsubscribe_contact(*, contact_list: ContactList, contact: Contact) -> None:
    """The member stays on record (with its dates) but no longer receives this list's mail."""
    ListMembership.objects.filter(contact_list=contact_list, contact=contact).update(
        status=ListMembership.Status.UNSUBSCRIBED, updated_at=timezone.now()
    )
