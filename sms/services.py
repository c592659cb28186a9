"""Writes of the SMS side: senders, campaigns and their lifecycle, test sends, the account's
SMS settings. The send itself is the engine's (campaigns.engine)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.services import ensure_account_may_send
from campaigns import merge_tags
from campaigns.engine import lifecycle
from campaigns.engine.audience import audience
from campaigns.engine.channel import Sent
from campaigns.services import merge_tag_problems
from contacts.models import Contact
from sms import short_links
from sms.account_settings import opt_out_mention, sms_settings_of
from sms.backends import OutgoingSms, get_backend
from sms.channel import SMS
from sms.composing import has_opt_out
from sms.encoding import count
from sms.models import E164, SmsCampaign, SmsMessage, SmsSender, SmsSettings
from sms.quiet_hours import LEGAL


class SmsError(ServiceError):
    pass


class SmsStateError(ConflictError):
    """Valid, but the campaign's or sender's state forbids it (409)."""


class SmsNotReady(SmsStateError, SmsError):
    """The draft lacks what sending needs (text, sender, audience): a state of the campaign to
    complete first, so a 409 naming the fields — as an email campaign's (CampaignNotReady)."""

    code = "not_ready"


def sender_create(*, account, value: str) -> SmsSender:
    sender = SmsSender(account=account, value=value)
    sender.full_clean(exclude=["account"], validate_unique=False)
    try:
        with transaction.atomic():
            sender.save()
    except IntegrityError as error:
        raise ConflictError(
            {"value": _("This sender already exists.")}, code="sender_exists"
        ) from error
    return sender


@transaction.atomic
def sender_delete(*, sender: SmsSender) -> None:
    """Refused while a campaign not yet sent uses the sender. The open campaign of its
    transactional single sends (sms.single_sends) is closed with it once nothing of it waits."""
    in_use = SmsCampaign.objects.filter(sender=sender).exclude(
        status__in=[SmsCampaign.Status.FINISHED, SmsCampaign.Status.CANCELLED]
    )
    single_sends = list(in_use.filter(single_sends=True))
    waiting = SmsMessage.objects.filter(
        campaign__in=single_sends,
        status__in=[SmsMessage.Status.QUEUED, SmsMessage.Status.SENDING],
    )
    if in_use.filter(single_sends=False).exists() or waiting.exists():
        raise SmsStateError("Campaigns not yet sent use this sender.", code="sender_in_use")
    for campaign in single_sends:
        lifecycle.campaign_cancel(campaign=campaign)
    sender.delete()


def _check_text(account, campaign: SmsCampaign) -> dict[str, str]:
    errors = merge_tag_problems(account, {"text": campaign.text})
    if not errors and (
        campaign.is_marketing
        and campaign.text
        and not has_opt_out(campaign.text, mention := opt_out_mention(account))
    ):
        errors["text"] = _(
            'A marketing SMS must carry the opt-out mention "%(mention)s" (it counts in the '
            "length). Add it at the end of the text."
        ) % {"mention": mention}
    return errors


def _apply(campaign: SmsCampaign, data: dict) -> SmsCampaign:
    relations = {
        name: data.pop(name)
        for name in ("lists", "segments", "excluded_lists", "excluded_segments")
        if name in data
    }
    for name, value in data.items():
        setattr(campaign, name, value)
    errors = _check_text(campaign.account, campaign)
    if errors:
        raise SmsError(errors, code="invalid_text")
    campaign.save()
    for name, value in relations.items():
        getattr(campaign, name).set(value)
    return campaign


@transaction.atomic
def campaign_create(*, account, data: dict) -> SmsCampaign:
    return _apply(SmsCampaign(account=account), dict(data))


@transaction.atomic
def campaign_update(*, campaign: SmsCampaign, data: dict) -> SmsCampaign:
    if not campaign.is_editable:
        raise SmsStateError(
            {"status": _("This campaign has already been sent.")}, code="already_sent"
        )
    return _apply(campaign, dict(data))


def campaign_delete(*, campaign: SmsCampaign) -> None:
    if campaign.status not in {SmsCampaign.Status.DRAFT, SmsCampaign.Status.CANCELLED}:
        raise SmsStateError(
            {"status": _("Only a draft or cancelled campaign can be deleted.")},
            code="invalid_status",
        )
    campaign.delete()


def _ready_to_send(campaign: SmsCampaign) -> None:
    errors = _check_text(campaign.account, campaign)
    if not (campaign.text or "").strip():
        errors["text"] = _("Write the text of the SMS.")
    if campaign.sender_id is None:
        errors["sender"] = _("Choose a sender.")
    if not campaign.lists.exists() and not campaign.segments.exists():
        errors["lists"] = _("Choose at least one list or segment.")
    if errors:
        raise SmsNotReady(errors)


def campaign_schedule(*, campaign: SmsCampaign, at=None, sandbox: bool = False) -> SmsCampaign:
    """`at` None or past: start now. A marketing campaign started outside the legal window is
    frozen and pauses at once until the window opens (its first batch sees the hour)."""
    if not campaign.is_editable:
        raise SmsStateError(
            {"status": _("This campaign has already been sent.")}, code="already_sent"
        )
    ensure_account_may_send(campaign.account)
    _ready_to_send(campaign)
    campaign.sandbox = sandbox
    if at is not None and at > timezone.now():
        campaign.status = SmsCampaign.Status.SCHEDULED
        campaign.scheduled_at = at
        campaign.save(update_fields=["status", "scheduled_at", "sandbox", "updated_at"])
        return campaign
    campaign.save(update_fields=["sandbox", "updated_at"])
    lifecycle.campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_pause(*, campaign: SmsCampaign) -> bool:
    """The user's pause: it waits for the user, even if the legal window had paused it."""
    with transaction.atomic():
        paused = lifecycle.campaign_pause(campaign=campaign)
        SmsCampaign.objects.filter(pk=campaign.pk).update(resumes_at=None)
    return paused or campaign.status == SmsCampaign.Status.PAUSED


def campaign_resume(*, campaign: SmsCampaign) -> bool:
    with transaction.atomic():
        SmsCampaign.objects.filter(pk=campaign.pk).update(resumes_at=None)
        return lifecycle.campaign_resume(campaign=campaign)


def campaign_cancel(*, campaign: SmsCampaign) -> bool:
    return lifecycle.campaign_cancel(campaign=campaign)


def check_mobile(mobile: str, field: str = "mobile") -> str:
    if not E164.fullmatch(mobile or ""):
        raise SmsError({field: _("Give a mobile number in international format (+33…).")})
    return mobile


def campaign_send_test(*, campaign: SmsCampaign, mobile: str, contact: Contact | None = None):
    """The campaign's SMS as `contact` (default: the first of its audience) would get it, to one
    number, now, whatever the hour (a test is not prospection). Returns what was sent."""
    check_mobile(mobile)
    if not (campaign.text or "").strip():
        raise SmsError({"text": _("Write the text of the SMS.")})
    ensure_account_may_send(campaign.account)
    errors = _check_text(campaign.account, campaign)
    if errors:
        raise SmsError(errors, code="invalid_text")
    sample = contact or audience(SMS, campaign).first() or Contact(account=campaign.account)
    prepared = SMS.prepare(campaign)
    text = merge_tags.render(
        prepared.text, merge_tags.contact_values(sample, campaign.account), escape=False
    )
    if prepared.short_links:
        # No message to count a click on: the test shows the links as written.
        text = short_links.fill_in_with(text, short_links.links_of(campaign.text))
    counted = count(text)
    sms = OutgoingSms(
        account_id=campaign.account_id,
        message_id=None,
        sender=prepared.sender,
        mobile=mobile,
        text=text,
        encoding=str(counted.encoding),
        segments=counted.segments,
    )
    if campaign.sandbox:
        return sms
    backend = get_backend()
    backend.open()
    try:
        outcome = backend.send(sms)
    finally:
        backend.close()
    if not isinstance(outcome, Sent):
        raise SmsError({"mobile": _("The provider refused the test: %s") % outcome.detail})
    return sms


@transaction.atomic
def sms_settings_update(*, account, **changes) -> SmsSettings:
    chosen = sms_settings_of(account)
    for name, value in changes.items():
        setattr(chosen, name, value)
    errors = {}
    if not (LEGAL.start <= chosen.window_start < chosen.window_end <= LEGAL.end):
        errors["window_start"] = _(
            "The sending hours can only be narrowed: between 08:00 and 20:00, start before end."
        )
    if chosen.currency not in settings.SMS_PRICES:
        errors["currency"] = _("No price table for this currency.")
    for mention in [chosen.opt_out_mention, *(chosen.opt_out_by_provider or {}).values()]:
        if mention and "stop" not in mention.casefold():
            errors["opt_out_mention"] = _('An opt-out mention says "STOP" and where to send it.')
    if errors:
        raise SmsError(errors)
    chosen.save()
    return chosen


def with_mention(account, text: str) -> str:
    """A marketing text as it leaves: with the account's opt-out mention."""
    from sms.composing import with_opt_out

    return with_opt_out(text, opt_out_mention(account))
