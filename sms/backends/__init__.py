"""SMS delivery backends, chosen by the SMS_BACKEND setting the way Django chooses its email
backend: a dotted path to a class implementing the send engine's DeliveryBackend protocol
(open, close, send one `OutgoingSms` → Sent / RetryLater / PermanentFailure / ConnectionLost).

- `sms.backends.outbox.SmsBackend` (the embedded default): every SMS kept in the database, shown
  by the outbox page; nothing leaves the platform.
- `sms.backends.console.SmsBackend`: printed on standard output.
- `sms.backends.locmem.SmsBackend`: kept in `sms.backends.locmem.outbox`, for tests.
- `sms.backends.twilio.SmsBackend`: Twilio's Messages API (status callbacks: sms.webhooks).
- `sms.backends.smpp.SmsBackend`: any SMSC over SMPP 3.4 (receipts and replies on the session;
  `manage.py smpp_receiver` for those that come between batches).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class OutgoingSms:
    """One SMS as every backend receives it: rendered, counted, addressed."""

    account_id: int
    message_id: int | None
    sender: str
    mobile: str
    text: str
    encoding: str
    segments: int


def get_backend(path: str | None = None):
    return import_string(path or settings.SMS_BACKEND)()
