"""Django email backend that DKIM-signs the bytes it sends."""

import smtplib

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

from campaigns.dkim import sign


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
