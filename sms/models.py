"""SMS senders, campaigns and their per-recipient messages, and the local outbox.

`SmsCampaign` and `SmsMessage` extend the send engine's abstract models (the columns it reads and
writes: campaigns/engine/models.py); their constraints and indexes mirror campaigns.Message's,
since the engine claims, records and recovers both with the same queries.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from campaigns.engine.models import SendableCampaign, SendableMessage

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

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="sms_campaign_due")]

    def __str__(self):
        return self.name

    @property
    def is_marketing(self) -> bool:
        return self.kind == self.Kind.MARKETING


class SmsMessage(SendableMessage):
    """One SMS of one campaign to one recipient."""

    campaign = models.ForeignKey(SmsCampaign, on_delete=models.CASCADE, related_name="messages")
    # E.164, copied from the contact when the audience is frozen.
    mobile = models.CharField(max_length=16)
    # Segments of the text as rendered for this recipient (merge values differ): what is billed.
    # NULL until the message is rendered: the audience is frozen by one INSERT … SELECT.
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    # From the provider's delivery receipt.
    delivered_at = models.DateTimeField(null=True, blank=True)

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
        ]

    def __str__(self):
        return f"{self.mobile} ({self.status})"


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
