"""A contact's email activity: the state of their addresses and a timeline of what they received
and did with it."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from campaigns.models import Message
from contacts.models import Channel, Contact, Suppression, address_hash, stored_mobile
from stats.models import EmailEvent
from stats.selectors.campaigns import DEVICE_LABELS

MESSAGE_LABELS = {
    Message.Status.SENT: gettext_lazy("Received"),
    Message.Status.BOUNCED: gettext_lazy("Bounced"),
    Message.Status.FAILED: gettext_lazy("Not delivered"),
    Message.Status.SANDBOXED: gettext_lazy("Recorded (sandbox)"),
}
TIMELINE_LABELS = {
    EmailEvent.Kind.OPEN: gettext_lazy("Opened"),
    EmailEvent.Kind.CLICK: gettext_lazy("Clicked"),
    EmailEvent.Kind.SOFT_BOUNCE: gettext_lazy("Soft bounce (temporary)"),
    EmailEvent.Kind.HARD_BOUNCE: gettext_lazy("Hard bounce"),
    EmailEvent.Kind.COMPLAINT: gettext_lazy("Marked as spam"),
    EmailEvent.Kind.UNSUBSCRIBE: gettext_lazy("Unsubscribed"),
}


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "message", or an EmailEvent kind
    occurred_at: datetime
    campaign_id: int | None
    campaign_name: str
    message_status: str = ""  # for a message: its status
    detail: str = ""  # the link of a click, the diagnostic of a bounce…
    machine_reason: str = ""  # not empty: a machine, not the person
    device: str = ""
    client: str = ""

    @property
    def label(self) -> str:
        if self.kind == "message":
            return str(MESSAGE_LABELS.get(self.message_status, self.message_status))
        return str(TIMELINE_LABELS.get(self.kind, self.kind))

    @property
    def device_label(self) -> str:
        return str(DEVICE_LABELS.get(self.device, self.device))

    @property
    def machine_label(self) -> str:
        if not self.machine_reason:
            return ""
        return str(EmailEvent.MachineReason(self.machine_reason).label)


@dataclass(frozen=True)
class AddressStatus:
    channel: str
    address: str
    consent: str
    consent_label: str
    suppression: str  # a Suppression.Reason, or "" when the address may be sent to
    suppression_label: str
    suppressed_since: datetime | None


@dataclass(frozen=True)
class ContactActivity:
    contact: Contact
    addresses: list[AddressStatus]
    messages_received: int  # accepted by the receiving server and not bounced
    messages_opened: int
    messages_clicked: int
    items: list[TimelineItem]  # newest first


# Statuses of a message that say something about the person's mailbox.
TIMELINE_STATUSES = [
    Message.Status.SENT,
    Message.Status.BOUNCED,
    Message.Status.FAILED,
    Message.Status.SANDBOXED,
]


def _addresses(contact: Contact) -> list[AddressStatus]:
    mobile = stored_mobile(contact)
    wanted = [
        (Channel.EMAIL, contact.email, contact.email_status, contact.get_email_status_display()),
        (Channel.SMS, mobile, contact.sms_status, contact.get_sms_status_display()),
    ]
    wanted = [row for row in wanted if row[1]]
    suppressions = {
        (row.channel, row.address_hash): row
        for row in Suppression.objects.filter(
            account_id=contact.account_id,
            address_hash__in=[address_hash(address) for _channel, address, *_rest in wanted],
        )
    }
    statuses = []
    for channel, address, consent, consent_label in wanted:
        found = suppressions.get((channel, address_hash(address)))
        statuses.append(
            AddressStatus(
                channel=channel,
                address=address,
                consent=consent,
                consent_label=str(consent_label),
                suppression=found.reason if found else "",
                suppression_label=str(found.get_reason_display()) if found else "",
                suppressed_since=found.created_at if found else None,
            )
        )
    return statuses


def contact_activity(contact: Contact, limit: int = 50) -> ContactActivity:
    """What happened between the account's email campaigns and this person, newest first: each
    message (its status, e.g. sent or bounced) and each event (opens, clicks, bounces,
    complaints, unsubscribes; machine ones flagged), with the state of their addresses."""
    messages = Message.objects.filter(contact=contact, campaign__account_id=contact.account_id)
    summary = messages.aggregate(
        received=Count("pk", filter=Q(status=Message.Status.SENT)),
        opened=Count("pk", filter=Q(first_opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
    )
    items = [
        TimelineItem(
            kind="message",
            occurred_at=moment,
            campaign_id=campaign_id,
            campaign_name=name,
            message_status=status,
            detail=error,
        )
        for moment, campaign_id, name, status, error in messages.filter(
            status__in=TIMELINE_STATUSES
        )
        .annotate(moment=Coalesce("sent_at", "claimed_at", "created_at"))
        .order_by("-moment", "-pk")
        .values_list("moment", "campaign_id", "campaign__name", "status", "error")[:limit]
    ]
    events = (
        EmailEvent.objects.filter(account_id=contact.account_id, contact=contact)
        .select_related("campaign", "link")
        .order_by("-occurred_at", "-pk")[:limit]
    )
    for event in events:
        detail = event.link.url if event.link_id and event.link else event.detail
        items.append(
            TimelineItem(
                kind=event.kind,
                occurred_at=event.occurred_at,
                campaign_id=event.campaign_id,
                campaign_name=event.campaign.name,
                detail=detail,
                machine_reason=event.machine_reason,
                device=event.device,
                client=event.client,
            )
        )
    # Within one instant an event comes after the message it is about.
    items.sort(key=lambda item: (item.occurred_at, item.kind != "message"), reverse=True)
    return ContactActivity(
        contact=contact,
        addresses=_addresses(contact),
        messages_received=summary["received"],
        messages_opened=summary["opened"],
        messages_clicked=summary["clicked"],
        items=items[:limit],
    )
