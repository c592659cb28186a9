"""Messages their recipient has not opened: what the "not opened within N days" trigger reads."""

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Account
from campaigns.models import Message
from stats.models import EmailEvent


def messages_not_opened(
    account: Account,
    *,
    sent_after: datetime,
    sent_until: datetime,
    campaign_id: int | None = None,
) -> QuerySet[Message]:
    """The account's email messages delivered to a contact between the two moments that no
    person opened or clicked since (a click without an open is a reader whose images were
    blocked). Opens recorded as a machine's (a mail privacy proxy fetching every image on
    delivery, a security scanner) are no reader's, and do not count."""
    read = EmailEvent.objects.filter(
        message=OuterRef("pk"),
        kind__in=[EmailEvent.Kind.OPEN, EmailEvent.Kind.CLICK],
        machine_reason="",
    )
    messages = Message.objects.filter(
        campaign__account=account,
        status=Message.Status.SENT,
        contact__isnull=False,
        sent_at__gt=sent_after,
        sent_at__lte=sent_until,
    )
    if campaign_id is not None:
        messages = messages.filter(campaign_id=campaign_id)
    return messages.exclude(Exists(read))
