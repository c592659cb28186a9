"""Recording what happens to sent messages: bounces, complaints and unsubscribes at once (they are
rare), with the counters of the campaign's report and the suppression the law and inbox
providers expect (DESIGN §6)."""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.domain_events import send_on_commit
from accounts.mail import send_account_mail
from accounts.models import Membership
from campaigns.models import EmailCampaign, Message
from campaigns.pipeline import campaign_pause, message_mark_bounced
from campaigns.signals import message_bounced, message_complained
from contacts.models import (
    Channel,
    ConsentRecord,
    ListMembership,
    Suppression,
    address_hash,
)
from contacts.services.consent import ConsentProof, consent_change, suppression_add
from stats.models import CampaignStats, EmailEvent, SoftBounceCount

logger = logging.getLogger(__name__)


def bump_counters(campaign_id: int, **increments: int) -> None:
    """Add to a campaign's counters in one UPDATE (the row is made on first use)."""
    changes = {name: F(name) + amount for name, amount in increments.items() if amount}
    if not changes:
        return
    if not CampaignStats.objects.filter(campaign_id=campaign_id).update(**changes):
        CampaignStats.objects.get_or_create(campaign_id=campaign_id)
        CampaignStats.objects.filter(campaign_id=campaign_id).update(**changes)


def _event(message: Message, kind: str, *, occurred_at, source: str, detail: str = "", **extra):
    return EmailEvent.objects.create(
        account_id=message.campaign.account_id,
        campaign_id=message.campaign_id,
        message=message,
        contact_id=message.contact_id,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        source=source[:30],
        detail=(detail or "")[:500],
        **extra,
    )


def announce(
    signal: Signal,
    *,
    message_id: int,
    campaign_id: int,
    account_id: int,
    contact_id: int | None,
    at: datetime,
    **extra,
) -> None:
    """Tell the listening apps (automations, outbound webhooks) what stats learnt of a message,
    once it is committed (campaigns/signals.py lists the payloads). Nothing is queued when no
    one listens."""
    if signal.has_listeners(Message):
        send_on_commit(
            signal, Message, message_id=message_id, campaign_id=campaign_id,
            account_id=account_id, contact_id=contact_id, channel="email", at=at, **extra,
        )  # fmt: skip


def _announce_event(signal: Signal, event: EmailEvent, **extra) -> None:
    announce(
        signal, message_id=event.message_id, campaign_id=event.campaign_id,
        account_id=event.account_id, contact_id=event.contact_id, at=event.occurred_at, **extra,
    )  # fmt: skip


def _already(message: Message, kind: str) -> bool:
    return EmailEvent.objects.filter(message=message, kind=kind).exists()


def _locked(message: Message) -> Message:
    """The message, locked (only its own row) until the transaction ends, so the same report
    arriving twice at once is recorded once; with what every recorder reads."""
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("campaign__account", "contact")
        .get(pk=message.pk)
    )


def _unsubscribe_contact(message: Message, proof: ConsentProof) -> bool:
    """Opt the message's contact out of email with its proof; False if there is no one left to
    opt out (erased contact, or one without an address)."""
    contact = message.contact
    if contact is None or not contact.email:
        return False
    consent_change(contact=contact, channel=Channel.EMAIL, status="unsubscribed", proof=proof)
    return True


@transaction.atomic
def record_bounce(
    *,
    message: Message,
    permanent: bool,
    source: str,
    diagnostic: str = "",
    occurred_at: datetime | None = None,
) -> EmailEvent | None:
    """A bounce reported after the SMTP dialogue (DSN, ESP webhook).

    A hard bounce suppresses the address; soft bounces are counted per address and become hard
    after settings.SOFT_BOUNCE_LIMIT in a row. The same report twice is recorded once.
    """
    message = _locked(message)
    account = message.campaign.account
    occurred_at = occurred_at or timezone.now()
    if _already(message, EmailEvent.Kind.HARD_BOUNCE) or (
        not permanent and _already(message, EmailEvent.Kind.SOFT_BOUNCE)
    ):
        return None
    hashed = address_hash(message.email)
    if not permanent:
        counter, _created = SoftBounceCount.objects.get_or_create(
            account=account, address_hash=hashed, defaults={"last_bounced_at": occurred_at}
        )
        SoftBounceCount.objects.filter(pk=counter.pk).update(
            count=F("count") + 1, last_bounced_at=occurred_at
        )
        counter.refresh_from_db()
        if counter.count >= settings.SOFT_BOUNCE_LIMIT:
            permanent = True
            with translation.override(account.language or settings.LANGUAGE_CODE):
                diagnostic = _("%(count)d soft bounces in a row; last: %(diagnostic)s") % {
                    "count": counter.count,
                    "diagnostic": diagnostic,
                }
    # Decided after the streak is counted: the bounce that ends it is recorded as the hard one.
    kind = EmailEvent.Kind.HARD_BOUNCE if permanent else EmailEvent.Kind.SOFT_BOUNCE
    event = _event(message, kind, occurred_at=occurred_at, source=source, detail=diagnostic)
    if kind == EmailEvent.Kind.HARD_BOUNCE:
        bump_counters(message.campaign_id, hard_bounces=1)
    else:
        bump_counters(message.campaign_id, soft_bounces=1)
    if permanent:
        message_mark_bounced(message.pk, diagnostic or "")
        suppression_add(
            account=account,
            channel=Channel.EMAIL,
            address=message.email,
            reason=Suppression.Reason.HARD_BOUNCE,
        )
        SoftBounceCount.objects.filter(account=account, address_hash=hashed).delete()
    _announce_event(
        message_bounced, event, kind="hard" if permanent else "soft", detail=event.detail
    )
    return event


def reset_soft_bounces(account_id: int, emails) -> None:
    """Delivery evidence (the person opened or clicked): their soft-bounce streak ends."""
    hashes = [address_hash(email) for email in emails if email]
    if hashes:
        SoftBounceCount.objects.filter(account_id=account_id, address_hash__in=hashes).delete()


@transaction.atomic
def record_complaint(
    *, message: Message, source: str, detail: str = "", occurred_at: datetime | None = None
) -> EmailEvent | None:
    """The recipient reported the message as spam: suppressed for good, counted, and the
    campaign pauses itself if its complaint rate passes the account's threshold."""
    message = _locked(message)
    if _already(message, EmailEvent.Kind.COMPLAINT):
        return None
    event = _event(
        message, EmailEvent.Kind.COMPLAINT, occurred_at=occurred_at, source=source, detail=detail
    )
    bump_counters(message.campaign_id, complaints=1)
    suppression_add(
        account=message.campaign.account,
        channel=Channel.EMAIL,
        address=message.email,
        reason=Suppression.Reason.COMPLAINT,
    )
    _unsubscribe_contact(
        message,
        ConsentProof(
            source=ConsentRecord.Source.BOUNCE, form=f"complaint, campaign #{message.campaign_id}"
        ),
    )
    pause_if_complaint_rate_exceeded(message.campaign)
    _announce_event(message_complained, event)
    return event


def complaint_rate(campaign: EmailCampaign) -> tuple[int, int]:
    """(complaints, messages accepted by the receiving servers)."""
    complaints = EmailEvent.objects.filter(
        campaign=campaign, kind=EmailEvent.Kind.COMPLAINT
    ).count()
    sent = Message.objects.filter(
        campaign=campaign, status__in=[Message.Status.SENT, Message.Status.BOUNCED]
    ).count()
    return complaints, sent


def pause_if_complaint_rate_exceeded(campaign: EmailCampaign) -> bool:
    complaints, sent = complaint_rate(campaign)
    threshold = settings.COMPLAINT_RATE_PAUSE_THRESHOLD
    if sent < settings.COMPLAINT_PAUSE_MIN_SENT or complaints <= threshold * sent:
        return False
    with translation.override(campaign.account.language or settings.LANGUAGE_CODE):
        reason = _(
            "Paused automatically: %(complaints)d complaints for %(sent)d messages sent "
            "(%(rate).2f %%, above the %(threshold).2f %% limit)."
        ) % {
            "complaints": complaints,
            "sent": sent,
            "rate": 100 * complaints / sent,
            "threshold": 100 * threshold,
        }
    # The channel's own pause service: the same pause as the marketer's button, with a reason.
    paused = campaign_pause(campaign=campaign, reason=reason)
    if paused:
        logger.warning("campaign %s paused: complaint rate", campaign.pk)
        transaction.on_commit(lambda: warn_account_of_pause(campaign.pk))
    return paused


def warn_account_of_pause(campaign_id: int) -> None:
    """Email the account's owners and administrators, each in the account's language."""
    campaign = EmailCampaign.objects.select_related("account").get(pk=campaign_id)
    account = campaign.account
    recipients = list(
        Membership.objects.filter(
            account=account, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return
    with translation.override(account.language or settings.LANGUAGE_CODE):
        link = settings.PUBLIC_BASE_URL + reverse("stats:campaign_report", args=[campaign.pk])
        send_account_mail(
            account_id=account.pk,
            subject=_("Campaign “%(name)s” paused: too many complaints") % {"name": campaign.name},
            message=_(
                "%(reason)s\n\nRecipients who complain are suppressed. Check the campaign's "
                "audience and consent before resuming it:\n%(link)s"
            )
            % {"reason": campaign.pause_reason, "link": link},
            recipient_list=recipients,
        )


@transaction.atomic
def record_unsubscribe(
    *,
    message: Message,
    source: str,
    ip_address: str | None = None,
    user_agent: str = "",
    lists=(),
) -> EmailEvent | None:
    """The recipient opted out: of all email (no `lists`, final: the address is suppressed) or
    of some of the account's lists only. Counted once per message."""
    message = _locked(message)
    if lists:
        if message.contact is not None:
            ListMembership.objects.filter(
                contact=message.contact,
                contact_list__in=lists,
                contact_list__account_id=message.campaign.account_id,
            ).update(status=ListMembership.Status.UNSUBSCRIBED, updated_at=timezone.now())
    elif not _unsubscribe_contact(
        message,
        ConsentProof(
            source=ConsentRecord.Source.UNSUBSCRIBE,
            ip_address=ip_address,
            user_agent=user_agent,
            form=f"campaign #{message.campaign_id} ({source})",
        ),
    ):
        suppression_add(
            account=message.campaign.account,
            channel=Channel.EMAIL,
            address=message.email,
            reason=Suppression.Reason.UNSUBSCRIBED,
        )
    if _already(message, EmailEvent.Kind.UNSUBSCRIBE):
        return None
    detail = (
        _("lists: %(names)s") % {"names": ", ".join(str(item) for item in lists)}
        if lists
        else _("all email")
    )
    event = _event(
        message,
        EmailEvent.Kind.UNSUBSCRIBE,
        occurred_at=None,
        source=source,
        detail=detail,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:500],
    )
    bump_counters(message.campaign_id, unsubscribes=1)
    return event
