"""The SMS channel: what the send engine needs to reach contacts by SMS (their E.164 mobile,
SMS consent and suppressions), the text of each message (the email channel's merge tags, plus
the opt-out mention for marketing), the legal hours, and the provider backend of the settings."""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction

from campaigns import merge_tags
from campaigns.engine.channel import Channel
from contacts.models import Channel as ContactChannel
from sms import quiet_hours, short_links
from sms.account_settings import current_provider, opt_out_mention, sending_window, sms_settings_of
from sms.backends import OutgoingSms, get_backend
from sms.composing import campaign_text
from sms.encoding import count
from sms.legal_hours import pause_for_legal_hours
from sms.models import SmsCampaign, SmsLink, SmsMessage


@dataclass(frozen=True)
class PreparedSms:
    account: object
    sender: str
    # The campaign's text with the opt-out mention when it is marketing; merge tags still in.
    text: str
    marketing: bool
    campaign_id: int = 0
    # The text's links are placeholders that each message fills in with its own short links.
    short_links: bool = False
    window: quiet_hours.Window = quiet_hours.LEGAL
    # Set once the batch paused its campaign for the legal hours (one pause per batch).
    paused: list = field(default_factory=list)


def shortened_text(campaign: SmsCampaign, text: str) -> str:
    """`text` with its links as placeholders, the links stored for the redirect (once: a
    campaign's text no longer changes once it sends; later batches find them stored)."""
    wanted = dict(enumerate(short_links.links_of(text)))
    stored = dict(SmsLink.objects.filter(campaign=campaign).values_list("index", "url"))
    if stored != wanted:
        # A draft's test send stored the links of an earlier text: those give way.
        kept = [index for index, url in wanted.items() if stored.get(index) == url]
        with transaction.atomic():
            SmsLink.objects.filter(campaign=campaign).exclude(index__in=kept).delete()
            SmsLink.objects.bulk_create(
                [SmsLink(campaign=campaign, index=i, url=url) for i, url in wanted.items()],
                ignore_conflicts=True,
            )
    return short_links.with_placeholders(text)


class SmsChannel(Channel):
    name = "sms"
    campaign_model = SmsCampaign
    message_model = SmsMessage
    contact_address_field = "mobile"
    message_address_field = "mobile"
    consent_field = "sms_status"
    suppression_channel = ContactChannel.SMS
    campaign_related = ("account", "sender")
    contact_columns = merge_tags.CONTACT_COLUMNS
    message_columns = ("text",)

    def prepare(self, campaign: SmsCampaign) -> PreparedSms:
        chosen = sms_settings_of(campaign.account)
        mention = opt_out_mention(campaign.account, current_provider(), sms_settings=chosen)
        text = campaign_text(campaign.text, marketing=campaign.is_marketing, opt_out=mention)
        if campaign.short_links:
            text = shortened_text(campaign, text)
        return PreparedSms(
            account=campaign.account,
            sender=campaign.sender.value if campaign.sender else "",
            text=text,
            short_links=campaign.short_links,
            marketing=campaign.is_marketing,
            campaign_id=campaign.pk,
            window=sending_window(campaign.account, sms_settings=chosen),
        )

    def render(self, prepared: PreparedSms, message: SmsMessage) -> OutgoingSms:
        if message.text:
            # A single send: its own text as the caller wrote it, to a number that may be no
            # contact (nothing to merge).
            text = message.text
        else:
            values = merge_tags.contact_values(message.contact, prepared.account)
            text = merge_tags.render(prepared.text, values, escape=False)
            if prepared.short_links:
                text = short_links.fill_in(text, message.pk)
        counted = count(text)
        return OutgoingSms(
            account_id=prepared.account.pk,
            message_id=message.pk,
            sender=prepared.sender,
            mobile=message.mobile,
            text=text,
            encoding=str(counted.encoding),
            segments=counted.segments,
        )

    def backend(self, prepared: PreparedSms):
        return get_backend()

    def rate(self, account) -> int:
        return settings.SMS_SEND_RATE_PER_ACCOUNT

    def not_before(self, prepared: PreparedSms, message: SmsMessage, now: datetime):
        if not prepared.marketing:
            return None
        allowed = quiet_hours.next_allowed(
            now, quiet_hours.region_of(message.mobile), prepared.window
        )
        if allowed == now:
            return None
        if prepared.campaign_id and not prepared.paused:
            # The window closed: the campaign pauses (shown, and resumed at `allowed` by
            # sms.tasks), rather than the engine deferring its messages one UPDATE at a time;
            # only the rest of this batch is deferred message by message.
            pause_for_legal_hours(campaign_id=prepared.campaign_id, until=allowed)
            prepared.paused.append(allowed)
        return allowed

    def addressed_without_contact(self, message: SmsMessage) -> bool:
        return bool(message.text)

    sent_columns = ("segments",)

    def recorded_with_sent(self, rendered: OutgoingSms) -> dict:
        return {"segments": rendered.segments}


SMS = SmsChannel()
