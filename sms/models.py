"""SMS senders, campaigns and their per-recipient messages, and the local outbox.

`SmsCampaign` and `SmsMessage` extend the send engine's abstract models (the columns it reads and
writes: campaigns/engine/models.py); their constraints and indexes mirror campaigns.Message's,
since the engine claims, records and recovers both with the same queries.
"""

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from campaigns.engine.models import SendableCampaign, SendableMessage
from contacts.models import Contact

# What operators accept as an alphanumeric sender id: 3 to 11 ASCII letters and digits, at least
# one letter (an all-digit id would be taken for a short code or a number).
ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9]{3,11}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def validate_sender_id(value: str) -> None:
    if ALPHANUMERIC_SENDER.fullmatch(value) or E164.fullmatch(value):
        return
    raise ValidationError(
        _(
            "A sender is 3 to 11 letters and digits with at least one letter, "
            "or a number in international format (+33…)."
        ),
        code="invalid_sender",
    )


class SmsSender(models.Model):
    """What the recipient's phone shows as the sender, for one account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sms_senders")
    value = models.CharField(_("sender"), max_length=16, validators=[validate_sender_id])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["value", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "value"], name="unique_sms_sender"),
        ]

    def __str__(self):
        return self.value

    @property
    def is_number(self) -> bool:
        return self.value.startswith("+")


class SmsCampaign(SendableCampaign):
    class Kind(models.TextChoices):
        # Marketing: consent, opt-out mention and legal hours apply. Transactional (an order
        # confirmation, a one-time code): none of the last two.
        MARKETING = "marketing", _("Marketing")
        TRANSACTIONAL = "transactional", _("Transactional")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sms_campaigns")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=13, choices=Kind.choices, default=Kind.MARKETING)
    sender = models.ForeignKey(
        SmsSender, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)
    # Set when the platform paused the campaign because the legal window closed: it resumes by
    # itself at that time (a pause by the user leaves it empty and waits for the user).
    resumes_at = models.DateTimeField(_("resumes at"), null=True, blank=True)
    # The campaign that carries an account's transactional single sends (POST /sms/send/), one
    # per sender and mode (live or sandbox): its messages have their own text and no contact.
    single_sends = models.BooleanField(default=False, db_default=False)
    # Links of the text become per-message short redirects (sms.short_links), counted as clicks.
    short_links = models.BooleanField(_("shorten and track links"), default=False, db_default=False)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="sms_campaign_due"),
            models.Index(
                fields=["resumes_at"], condition=Q(resumes_at__isnull=False), name="sms_resume_due"
            ),
        ]
        constraints = [
            # One open single-send campaign per sender and mode, even when two first sends race.
            models.UniqueConstraint(
                fields=["account", "sender", "sandbox"],
                condition=Q(single_sends=True) & ~Q(status="cancelled"),
                name="one_open_single_send_campaign",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_marketing(self) -> bool:
        return self.kind == self.Kind.MARKETING


class SmsMessage(SendableMessage):
    """One SMS of one campaign to one recipient."""

    # No index of their own on the two foreign keys: one_sms_per_idempotency_key (campaign, …)
    # and sms_contact_sent (contact, …) serve their look-ups, and every sent message's UPDATE
    # writes into each index of the table (bench.sms_send: the indexes are most of its cost).
    campaign = models.ForeignKey(
        SmsCampaign, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # E.164, copied from the contact when the audience is frozen.
    mobile = models.CharField(max_length=16)
    # Segments of the text as rendered for this recipient (merge values differ): what is billed.
    # NULL until the message is rendered: the audience is frozen by one INSERT … SELECT.
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    # From the provider's delivery receipt.
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Delivery(models.TextChoices):
        # No final receipt yet (none asked for, or still on its way).
        UNKNOWN = "", _("No receipt yet")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Not delivered")

    # What the last final delivery receipt said (the engine's `status` says what the provider
    # accepted; this says what reached the phone), with the provider's own code and words.
    # Database defaults: the engine freezes an audience with one INSERT … SELECT naming only
    # its own columns.
    delivery = models.CharField(
        max_length=9, choices=Delivery.choices, blank=True, default="", db_default=""
    )
    delivery_code = models.CharField(max_length=32, blank=True, default="", db_default="")
    delivery_reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    # A single send's own text, as given (no merge tags, no opt-out mention); empty for a
    # campaign's messages, which render the campaign's text.
    text = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["pk"]
        constraints = [
            # The engine's freeze relies on this one (ON CONFLICT): one message per number.
            models.UniqueConstraint(
                fields=["campaign", "mobile"],
                condition=Q(idempotency_key__isnull=True),
                name="one_sms_per_number",
            ),
            models.UniqueConstraint(
                fields=["campaign", "idempotency_key"], name="one_sms_per_idempotency_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "id"], condition=Q(status="queued"), name="sms_queued"
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="sms_in_flight"
            ),
            # Retries and messages deferred to the legal hours, found by the periodic task.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued", next_attempt_at__isnull=False),
                name="sms_retry_due",
            ),
            models.Index(fields=["campaign", "status"], name="sms_campaign_status"),
            models.Index(fields=["contact", "sent_at"], name="sms_contact_sent"),
            # Delivery receipts name a message by the provider's id.
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="sms_by_provider_id"
            ),
            # An inbound reply is attributed to the last SMS sent to its number.
            models.Index(
                fields=["mobile", "sent_at"], condition=Q(sent_at__isnull=False), name="sms_last_to"
            ),
        ]

    def __str__(self):
        return f"{self.mobile} ({self.status})"


class SmsMessagePart(models.Model):
    """One part of a concatenated SMS sent over SMPP: the SMSC gives each part its own id and
    its own delivery receipt. The message is delivered when every part is, failed as soon as
    one part is (the phone cannot show the text whole)."""

    message = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveSmallIntegerField()
    provider_id = models.CharField(max_length=65)
    delivery = models.CharField(
        max_length=9, choices=SmsMessage.Delivery.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="one_sms_part_number"),
        ]
        indexes = [models.Index(fields=["provider_id"], name="sms_part_by_provider_id")]

    def __str__(self):
        return f"{self.message_id} part {self.number}"


class SmsReply(models.Model):
    """An SMS a person sent back (Twilio's inbound webhook, an SMPP deliver_sm), kept for the
    account of the last SMS sent to that number. A STOP-like reply is also the proof behind the
    consent ledger's opt-out entry."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="sms_replies"
    )
    campaign = models.ForeignKey(
        SmsCampaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(max_length=20)
    # The provider's id of the inbound SMS: a webhook delivered twice is one reply.
    provider_id = models.CharField(max_length=65)
    mobile = models.CharField(max_length=16)  # who wrote
    to = models.CharField(max_length=21)  # the number or short code written to
    text = models.TextField()
    is_stop = models.BooleanField(default=False)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_id"], name="one_sms_reply"),
        ]
        indexes = [
            models.Index(fields=["account", "-received_at"], name="sms_reply_recent"),
            models.Index(fields=["campaign"], condition=Q(is_stop=True), name="sms_stop_replies"),
            # Segments: "replied STOP within N days", matched on the contact's number.
            models.Index(
                fields=["account", "mobile", "received_at"],
                condition=Q(is_stop=True),
                name="sms_stop_by_number",
            ),
        ]

    def __str__(self):
        return f"{self.mobile}: {self.text[:30]}"


class SmsLink(models.Model):
    """A link of a campaign's text, numbered as sms.short_links finds them: the only addresses a
    short link redirects to."""

    campaign = models.ForeignKey(SmsCampaign, on_delete=models.CASCADE, related_name="links")
    index = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)

    class Meta:
        ordering = ["campaign", "index"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "index"], name="one_sms_link_per_index"),
        ]

    def __str__(self):
        return self.url


class SmsClick(models.Model):
    """One click on a short link of one message (append-only)."""

    message = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="clicks")
    # Denormalised from the message: reports count a campaign's clicks without the join.
    campaign = models.ForeignKey(SmsCampaign, on_delete=models.CASCADE, related_name="+")
    link_index = models.PositiveSmallIntegerField()
    clicked_at = models.DateTimeField()
    user_agent = models.CharField(max_length=500, blank=True)
    # A messaging app fetching the link for its preview, or a scanner: kept, reported apart.
    machine = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["campaign", "clicked_at"], name="sms_click_by_campaign")]

    def __str__(self):
        return f"{self.message_id} link {self.link_index}"


class SmsReplyPart(models.Model):
    """One part of a long SMS a person sent (SMPP deliver_sm with a concatenation header), kept
    until the other parts come: the whole text is then one SmsReply and the parts go."""

    provider = models.CharField(max_length=20)
    mobile = models.CharField(max_length=16)
    to = models.CharField(max_length=21)
    # The phone's reference for this long SMS, its number of parts, and this part's number.
    reference = models.PositiveIntegerField()
    total = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]
        constraints = [
            # A part delivered twice (a lost deliver_sm_resp) is kept once.
            models.UniqueConstraint(
                fields=["provider", "mobile", "to", "reference", "total", "number"],
                name="one_sms_reply_part",
            ),
        ]

    def __str__(self):
        return f"{self.mobile} {self.reference}: {self.number}/{self.total}"


class OutboxSms(models.Model):
    """An SMS the local outbox backend kept instead of handing it to a provider (the embedded
    default, and what sandbox accounts see), so a page can show it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        SmsMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=16, blank=True)
    mobile = models.CharField(max_length=16)
    text = models.TextField()
    encoding = models.CharField(max_length=5)
    segments = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["account", "-id"], name="sms_outbox_recent")]

    def __str__(self):
        return f"{self.mobile}: {self.text[:30]}"


class SmsSettings(models.Model):
    """An account's SMS choices; an account without a row has the defaults."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="sms_settings")
    # Empty: settings.SMS_OPT_OUT_MENTION ("STOP au 36180").
    opt_out_mention = models.CharField(_("opt-out mention"), max_length=40, blank=True)
    # A provider's own STOP number, by provider name (the backend's `provider`): {"twilio": "…"}.
    opt_out_by_provider = models.JSONField(default=dict, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # The account's sending hours: only ever inside the legal Mon–Sat 08:00–20:00.
    window_start = models.TimeField(_("send from"), default=time(8))
    window_end = models.TimeField(_("send until"), default=time(20))

    def __str__(self):
        return f"SMS settings of {self.account_id}"


class SingleSendKey(models.Model):
    """An Idempotency-Key taken by one transactional single send of an account, with what it
    asked for. Taken before anything is sent, under a unique constraint: of two requests racing
    with one key, only one sends (the messages' own constraint is per campaign, and two senders
    mean two campaigns)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    # SHA-256 of the number, text, sender and mode asked for with the key.
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="one_single_send_per_key")
        ]

    def __str__(self):
        return self.key
