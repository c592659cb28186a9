"""Django email backends: SMTP that DKIM-signs the bytes it sends; the local outbox."""

import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address
from django.utils import timezone

from accounts.mail import account_of
from campaigns.dkim import sign
from campaigns.models import OutboxMessage


class DkimSigningSmtpBackend(EmailBackend):
    """The SMTP backend, signing messages that carry a `dkim_key` (set by the email channel and
    by test sends).

    Signing must happen here: Django builds the MIME bytes (boundaries, Date) when sending, so a
    signature computed earlier would not match what leaves the machine.
    """

    def _send(self, email_message):
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        payload = email_message.message().as_bytes(linesep="\r\n")
        key = getattr(email_message, "dkim_key", None)
        if key is not None:
            payload = sign(payload, key)
        try:
            self.connection.sendmail(from_email, recipients, payload)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


class OutboxBackend(BaseEmailBackend):
    """The embedded default's backend: keeps each message in the local outbox, with the account
    it was sent for (accounts.mail), instead of delivering it."""

    def send_messages(self, email_messages):
        kept = []
        for email in email_messages:
            if not email.recipients():
                continue
            if email.content_subtype == "html":
                text, html = "", email.body
            else:
                alternatives = getattr(email, "alternatives", [])
                text = email.body
                html = next((body for body, mime in alternatives if mime == "text/html"), "")
            kept.append(
                OutboxMessage(
                    account_id=account_of(email),
                    channel=OutboxMessage.Channel.EMAIL,
                    sender=email.from_email or "",
                    recipients=", ".join(email.recipients()),
                    subject=email.subject or "",
                    text=text,
                    html=html,
                    raw=email.message().as_bytes().decode("utf-8", errors="replace"),
                )
            )
        OutboxMessage.objects.bulk_create(kept)
        return len(kept)


def outbox_prune(*, older_than: timedelta) -> int:
    """Delete captured messages older than `older_than`; return how many went.

    The outbox is a window on recent mail, not an archive: a demo that sends a campaign a day to
    a few hundred contacts would otherwise grow the database without end. Batched by primary key
    so that a large backlog is removed in short transactions."""
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        batch = list(
            OutboxMessage.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:5000]
        )
        if not batch:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=batch).delete()[0]
