"""Email campaigns: sender addresses, saved templates, campaigns and one message per recipient."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from campaigns.engine.models import SendableCampaign, SendableMessage, SentJournal  # noqa: F401


class SenderAddress(models.Model):
    """A From address of the account, usable once its owner confirmed it by email."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sender_addresses")
    email = models.EmailField(_("email"))
    name = models.CharField(_("sender name"), max_length=100)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="unique_sender_address")
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class EmailTemplate(models.Model):
    """An account's own template: MJML (compiled at save) or raw HTML."""

    class Kind(models.TextChoices):
        MJML = "mjml", "MJML"
        HTML = "html", "HTML"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="email_templates")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.HTML)
    source = models.TextField(_("source"))
    html = models.TextField(editable=False)
    # The block editor's design (campaigns/editor/design.py); `source` is then its MJML.
    design = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class SavedSection(models.Model):
    """A section kept for reuse in the block editor (a header, a footer): its design, copied
    into each email it is inserted in (campaigns/editor/design.py)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="saved_sections")
    name = models.CharField(_("name"), max_length=100)
    section = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class EmailCampaign(SendableCampaign):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="email_campaigns")
    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=255)
    preheader = models.CharField(_("pre-header"), max_length=255, blank=True)
    sender = models.ForeignKey(
        SenderAddress, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_to = models.EmailField(_("reply-to"), blank=True)
    html = models.TextField(_("HTML content"), blank=True)
    # The block editor's design (campaigns/editor/design.py) `html` was compiled from, if any.
    design = models.JSONField(null=True, blank=True, editable=False)
    text = models.TextField(_("text part"), blank=True, help_text=_("Empty: made from the HTML."))
    track_opens = models.BooleanField(_("track opens"), default=True)
    track_clicks = models.BooleanField(_("track clicks"), default=True)
    utm_parameters = models.JSONField(_("UTM parameters"), default=dict, blank=True)
    # The last test send: the pre-send checklist warns until the marketer has seen one.
    test_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due")]

    def __str__(self):
        return self.name


class Message(SendableMessage):
    """One email of one campaign to one recipient."""

    campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="messages")
    email = models.EmailField()
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            # A campaign's frozen audience: one message per address. Single sends may write to
            # an address many times, once per key.
            models.UniqueConstraint(
                fields=["campaign", "email"],
                condition=Q(idempotency_key__isnull=True),
                name="one_message_per_address",
            ),
            models.UniqueConstraint(
                fields=["campaign", "idempotency_key"], name="one_message_per_idempotency_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "id"],
                condition=Q(status="queued"),
                name="message_queued",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="message_in_flight"
            ),
            # Retries waiting for their time (few): the periodic task finds them every minute.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued", next_attempt_at__isnull=False),
                name="message_retry_due",
            ),
            # Status counts of a campaign's report and the segments' "received" conditions.
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            models.Index(fields=["contact", "sent_at"], name="message_contact_sent"),
            # ESP webhooks name a message by the ESP's id (stored in message_id).
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="message_by_esp_id"
            ),
        ]

    def __str__(self):
        return f"{self.email} ({self.status})"


class CampaignLink(models.Model):
    """One tracked link of a campaign: the only URL a click token of this campaign may redirect
    to (UTM parameters already appended). Numbered when sending starts (campaigns/links.py);
    the click counters are kept by stats."""

    campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="links")
    index = models.PositiveIntegerField()
    url = models.TextField()
    clicks_total = models.PositiveIntegerField(default=0)  # human clicks
    clicks_unique = models.PositiveIntegerField(default=0)  # recipients who clicked it
    machine_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        # The model moved from stats; its table kept its name, so no data had to move.
        db_table = "stats_campaignlink"
        ordering = ["campaign", "index"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "index"], name="unique_campaign_link")
        ]

    def __str__(self):
        return f"#{self.index} {self.url}"


class DkimKey(models.Model):
    """A DKIM signing key for one of the account's sending domains (RFC 6376).

    The private key is stored encrypted (see campaigns/dkim.py); the public part is published
    by the account in DNS at `<selector>._domainkey.<domain>`.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="dkim_keys")
    domain = models.CharField(_("domain"), max_length=253)
    selector = models.CharField(_("selector"), max_length=63, default="sendethic")
    private_key_encrypted = models.BinaryField(editable=False)
    public_key = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "domain"], name="one_dkim_key_per_domain")
        ]

    def __str__(self):
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def dns_value(self) -> str:
        return f"v=DKIM1; k=rsa; p={self.public_key}"


class SendingPolicy(models.Model):
    """An account's own sending pace (else settings.EMAIL_SEND_RATE_PER_ACCOUNT)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="sending_policy")
    messages_per_second = models.PositiveIntegerField(default=50)

    def __str__(self):
        return f"{self.account}: {self.messages_per_second}/s"


class OutboxMessage(models.Model):
    """A message the embedded default kept instead of delivering (campaigns.backends.
    OutboxBackend), readable by its account only.

    Channel-neutral on purpose: an SMS provider for the embedded default stores its messages
    here with channel "sms", the phone number in `recipients` and the text in `text` (no
    subject, no HTML), and the outbox page lists both. Mail about no account (a password reset)
    has no account and no account sees it: it stays in the admin."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox_messages"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    sender = models.CharField(max_length=320, blank=True)
    recipients = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    raw = models.TextField(blank=True, help_text="The whole message as it would have left.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"], name="outbox_by_account")]

    def __str__(self):
        return f"{self.channel} to {self.recipients}: {self.subject}"
