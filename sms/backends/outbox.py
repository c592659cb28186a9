"""The embedded default: every SMS kept in the database with its account (`OutboxSms`), so the
outbox page can show what would have reached each phone; nothing leaves the platform."""

from campaigns.engine.channel import Sent
from sms.models import OutboxSms


class SmsBackend:
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, sms) -> Sent:
        kept = OutboxSms.objects.create(
            account_id=sms.account_id,
            message_id=sms.message_id,
            sender=sms.sender,
            mobile=sms.mobile,
            text=sms.text,
            encoding=sms.encoding,
            segments=sms.segments,
        )
        return Sent(f"outbox-{kept.pk}")
