"""Reads of the contact base. Every query starts from the account."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Account
from contacts.models import (
    ConsentRecord,
    Contact,
    ContactField,
    ContactImport,
    ContactList,
    ListMembership,
)
from contacts.search import search_filter


def contact_fields_of(account: Account) -> QuerySet[ContactField]:
    return ContactField.objects.filter(account=account)


def contacts_of(account: Account) -> QuerySet[Contact]:
    return Contact.objects.filter(account=account)


def contacts_search(
    account: Account,
    *,
    query: str = "",
    email_status: str = "",
    sms_status: str = "",
    list_id: int | None = None,
) -> QuerySet[Contact]:
    contacts = contacts_of(account)
    query = query.strip()
    if query:
        # Accents and case ignored, a phone typed nationally understood (contacts/search.py).
        alias, condition = search_filter(query, account.default_phone_region)
        contacts = contacts.alias(**alias).filter(condition)
    if email_status:
        contacts = contacts.filter(email_status=email_status)
    if sms_status:
        contacts = contacts.filter(sms_status=sms_status)
    if list_id is not None:
        contacts = contacts.filter(
            memberships__contact_list_id=list_id,
            memberships__contact_list__account=account,
        )
    return contacts


def lists_of(account: Account) -> QuerySet[ContactList]:
    return ContactList.objects.filter(account=account)


def lists_with_counts(account: Account) -> QuerySet[ContactList]:
    return lists_of(account).annotate(
        member_count=Count(
            "listmembership",
            filter=Q(listmembership__status=ListMembership.Status.SUBSCRIBED),
        )
    )


def list_members(contact_list: ContactList) -> QuerySet[ListMembership]:
    return ListMembership.objects.filter(contact_list=contact_list).select_related("contact")


def consent_history(contact: Contact) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(account_id=contact.account_id, contact=contact)


def imports_of(account: Account) -> QuerySet[ContactImport]:
    return ContactImport.objects.filter(account=account)


def contact_personal_data(contact: Contact) -> dict:
    """Everything held about one person (GDPR art. 15), as plain JSON-ready data."""
    return {
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "mobile": str(contact.mobile or ""),
            "salutation": contact.salutation,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "birth_date": contact.birth_date.isoformat() if contact.birth_date else None,
            "zip_code": contact.zip_code,
            "city": contact.city,
            "country": contact.country,
            "company": contact.company,
            "fields": contact.fields,
            "email_status": contact.email_status,
            "sms_status": contact.sms_status,
            "created_at": contact.created_at.isoformat(),
            "updated_at": contact.updated_at.isoformat(),
        },
        "lists": [
            {
                "list": membership.contact_list.name,
                "status": membership.status,
                "since": membership.created_at.isoformat(),
            }
            for membership in contact.memberships.select_related("contact_list")
        ],
        "consent_history": [
            {
                "channel": record.channel,
                "status": record.status,
                "source": record.source,
                "ip_address": record.ip_address,
                "user_agent": record.user_agent,
                "wording": record.wording,
                "form": record.form,
                "at": record.created_at.isoformat(),
            }
            for record in consent_history(contact)
        ],
    }
