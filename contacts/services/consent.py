"""Consent and suppression: the rules that make an opt-out final (directive 2002/58/EC art. 13)."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.domain_events import send_on_commit
from accounts.errors import ConflictError, ServiceError
from accounts.mail import send_account_mail
from accounts.models import Account
from contacts.models import (
    Channel,
    ConsentRecord,
    ConsentStatus,
    Contact,
    Suppression,
    address_hash,
    stored_mobile,
)
from contacts.signals import contact_erased, contact_unsubscribed

DOUBLE_OPTIN_SALT = "contacts.double-optin"
DOUBLE_OPTIN_MAX_AGE = 7 * 24 * 3600


class ConsentError(ServiceError):
    """A consent change that cannot apply."""


class NoAddressForChannel(ConsentError, ConflictError):
    """The contact has no address on that channel (no mobile for SMS): the request is valid,
    the contact's current state forbids it, a 409 (found by schemathesis)."""


@dataclass(frozen=True)
class ConsentProof:
    """Where a consent change came from, kept in the ledger as proof."""

    source: str = ConsentRecord.Source.API
    ip_address: str | None = None
    user_agent: str = ""
    wording: str = ""
    form: str = ""
    version: str = ""
    actor: str = ""


def channel_address(contact: Contact, channel: str) -> str:
    if channel == Channel.EMAIL:
        return contact.email
    return stored_mobile(contact)


def suppressed_hashes(account: Account, channel: str, hashes) -> set[str]:
    return set(
        Suppression.objects.filter(
            account=account, channel=channel, address_hash__any_of=list(hashes)
        ).values_list("address_hash", flat=True)
    )


def status_after(*, current: str, requested: str, suppressed: bool, source: str) -> str:
    """The status a contact ends up with when `requested` is asked for.

    A suppressed address (unsubscribed, bounced, complained, erased) is never re-subscribed by an
    import or an API call; only the person's own double opt-in confirmation lifts it.
    """
    wants_consent = requested in {
        ConsentStatus.SUBSCRIBED,
        ConsentStatus.SOFT_OPTIN,
        ConsentStatus.PENDING,
    }
    if wants_consent and suppressed and source != ConsentRecord.Source.DOUBLE_OPTIN:
        return ConsentStatus.UNSUBSCRIBED
    return requested


def ledger_record(
    *, contact: Contact, channel: str, status: str, proof: ConsentProof
) -> ConsentRecord:
    return ConsentRecord(
        account_id=contact.account_id,
        contact=contact,
        address_hash=address_hash(channel_address(contact, channel)),
        channel=channel,
        status=status,
        source=proof.source,
        ip_address=proof.ip_address,
        user_agent=proof.user_agent[:400],
        wording=proof.wording,
        form=proof.form,
        version=proof.version,
        actor=proof.actor,
    )


def suppression_add(*, account: Account, channel: str, address: str, reason: str) -> None:
    if not address:
        return
    Suppression.objects.get_or_create(
        account=account,
        channel=channel,
        address_hash=address_hash(address),
        defaults={"reason": reason},
    )


@transaction.atomic
def consent_change(*, contact: Contact, channel: str, status: str, proof: ConsentProof) -> Contact:
    """Change one channel's consent, append the proof to the ledger, suppress on opt-out."""
    status_field = f"{channel}_status"
    address = channel_address(contact, channel)
    if not address:
        raise NoAddressForChannel({"channel": _("This contact has no address for this channel.")})
    suppressed = bool(suppressed_hashes(contact.account, channel, [address_hash(address)]))
    new_status = status_after(
        current=getattr(contact, status_field),
        requested=status,
        suppressed=suppressed,
        source=proof.source,
    )
    if new_status == ConsentStatus.UNSUBSCRIBED:
        suppression_add(
            account=contact.account,
            channel=channel,
            address=address,
            reason=Suppression.Reason.UNSUBSCRIBED,
        )
    elif proof.source == ConsentRecord.Source.DOUBLE_OPTIN and suppressed:
        # The person confirmed a new subscription themselves: their earlier opt-out is lifted.
        Suppression.objects.filter(
            account=contact.account,
            channel=channel,
            address_hash=address_hash(address),
            reason=Suppression.Reason.UNSUBSCRIBED,
        ).delete()
    if getattr(contact, status_field) != new_status:
        setattr(contact, status_field, new_status)
        contact.save(update_fields=[status_field, "updated_at"])
        if new_status == ConsentStatus.UNSUBSCRIBED:
            send_on_commit(
                contact_unsubscribed,
                sender=Contact,
                account_id=contact.account_id,
                contact_id=contact.pk,
                channel=channel,
                source=proof.source,
            )
    ledger_record(contact=contact, channel=channel, status=new_status, proof=proof).save()
    return contact


def double_optin_token(contact: Contact) -> str:
    return signing.dumps(
        {"a": contact.account_id, "c": contact.pk, "e": contact.email}, salt=DOUBLE_OPTIN_SALT
    )


def double_optin_request(*, contact: Contact, proof: ConsentProof) -> Contact:
    """Mark the email subscription pending and send the signed confirmation link."""
    consent_change(
        contact=contact, channel=Channel.EMAIL, status=ConsentStatus.PENDING, proof=proof
    )
    if contact.email_status != ConsentStatus.PENDING:
        return contact  # suppressed: no confirmation email to an address that opted out
    link = settings.PUBLIC_BASE_URL + reverse(
        "contacts:double_optin_confirm", args=[double_optin_token(contact)]
    )
    account_name = contact.account.name
    transaction.on_commit(
        lambda: send_account_mail(
            account_id=contact.account_id,
            subject=_("Confirm your subscription to %(name)s") % {"name": account_name},
            message=_(
                "Hello,\n\nTo confirm your subscription to the emails of %(name)s, open this "
                "link:\n\n%(link)s\n\nIf you did not ask for it, ignore this email."
            )
            % {"name": account_name, "link": link},
            recipient_list=[contact.email],
        )
    )
    return contact


class InvalidConfirmation(Exception):
    pass


def double_optin_confirm(*, token: str, ip_address: str | None, user_agent: str) -> Contact:
    try:
        payload = signing.loads(token, salt=DOUBLE_OPTIN_SALT, max_age=DOUBLE_OPTIN_MAX_AGE)
    except signing.BadSignature as error:
        raise InvalidConfirmation(str(error)) from error
    contact = Contact.objects.filter(
        account_id=payload["a"], pk=payload["c"], email=payload["e"]
    ).first()
    if contact is None:
        raise InvalidConfirmation("contact no longer exists")
    return consent_change(
        contact=contact,
        channel=Channel.EMAIL,
        status=ConsentStatus.SUBSCRIBED,
        proof=ConsentProof(
            source=ConsentRecord.Source.DOUBLE_OPTIN,
            ip_address=ip_address,
            user_agent=user_agent,
            form="double opt-in link",
        ),
    )


@transaction.atomic
def contact_erase(*, contact: Contact, actor: str) -> None:
    """GDPR art. 17: delete the personal data, keep only hashes so an opt-out survives."""
    proof = ConsentProof(source=ConsentRecord.Source.ERASURE, actor=actor)
    for channel in (Channel.EMAIL, Channel.SMS):
        address = channel_address(contact, channel)
        if address:
            suppression_add(
                account=contact.account,
                channel=channel,
                address=address,
                reason=Suppression.Reason.ERASED,
            )
            ledger_record(
                contact=contact, channel=channel, status=ConsentStatus.UNSUBSCRIBED, proof=proof
            ).save()
    contact_erased.send(sender=Contact, contact=contact)
    # Ledger rows lose their link to the contact (SET NULL) but keep the hash, as proof.
    contact.delete()
