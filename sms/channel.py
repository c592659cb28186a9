"""The SMS channel: what the send engine needs to reach contacts by SMS (their E.164 mobile,
SMS consent and suppressions), the text of each message (the email channel's merge tags, plus
the opt-out mention for marketing), the legal hours, and the provider backend of the settings."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from campaigns import merge_tags
from campaigns.engine.channel import Channel
from contacts.models import Channel as ContactChannel
from sms import quiet_hours
from sms.backends import OutgoingSms, get_backend
from sms.composing import campaign_text
from sms.encoding import count
from sms.models import SmsCampaign, SmsMessage

DEFAULT_RATE = 50


@dataclass(frozen=True)
class PreparedSms:
    account: object
    sender: str
    # The campaign's text with the opt-out mention when it is marketing; merge tags still in.
    text: str
    marketing: bool


class SmsChannel(Channel):
    name = "sms"
    campaign_model = SmsCampaign
    message_model = SmsMessage
    contact_address_field = "mobile"
    message_address_field = "mobile"
    consent_field = "sms_status"
    suppression_channel = ContactChannel.SMS
    campaign_related = ("account", "sender")

    def prepare(self, campaign: SmsCampaign) -> PreparedSms:
        return PreparedSms(
            account=campaign.account,
            sender=campaign.sender.value if campaign.sender else "",
            text=campaign_text(campaign.text, marketing=campaign.is_marketing),
            marketing=campaign.is_marketing,
        )

    def render(self, prepared: PreparedSms, message: SmsMessage) -> OutgoingSms:
        values = merge_tags.contact_values(message.contact, prepared.account)
        text = merge_tags.render(prepared.text, values, escape=False)
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
        return getattr(settings, "SMS_SEND_RATE_PER_ACCOUNT", DEFAULT_RATE)

    def not_before(self, prepared: PreparedSms, message: SmsMessage, now: datetime):
        if not prepared.marketing:
            return None
        allowed = quiet_hours.next_allowed(now, quiet_hours.region_of(message.mobile))
        return None if allowed == now else allowed

    def recorded_with_sent(self, rendered: OutgoingSms) -> dict:
        return {"segments": rendered.segments}


SMS = SmsChannel()
