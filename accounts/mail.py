"""Mail sent on behalf of an account carries the account, so a local outbox (the embedded
default's capturing backend, campaigns.backends.OutboxBackend) shows each account only its own.

The account rides on the Django email object as an attribute, never as a header: a header would
leave the machine with every real delivery unless each backend remembered to strip it."""

from django.conf import settings
from django.core.mail import EmailMessage

ACCOUNT_ATTRIBUTE = "sendethic_account_id"


def tag_with_account(email: EmailMessage, account_id: int | None) -> EmailMessage:
    setattr(email, ACCOUNT_ATTRIBUTE, account_id)
    return email


def account_of(email: EmailMessage) -> int | None:
    return getattr(email, ACCOUNT_ATTRIBUTE, None)


def send_account_mail(*, account_id: int, subject: str, message: str, recipient_list) -> int:
    """`send_mail` for mail about one account (confirmations, warnings to its owners)."""
    email = EmailMessage(
        subject=subject, body=message, from_email=settings.DEFAULT_FROM_EMAIL, to=recipient_list
    )
    return tag_with_account(email, account_id).send()
