"""Email statistics (DESIGN §6): raw tracking hits, events and the counters that keep a
campaign's report fast whatever its size. The tracked links are the channel's
(campaigns.models.CampaignLink); stats counts the clicks in them.

Opens and clicks arrive at high rate: the tracking views only append a `TrackingHit` (one INSERT,
no lock shared between requests) and a worker folds hits into `EmailEvent`s and the counters in
batches (stats/services/ingest.py). Bounces, complaints and unsubscribes are rare and are recorded
at once. A report reads counters, never the events.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from campaigns.models import CampaignLink, EmailCampaign, Message
from contacts.models import Contact


class TrackingHit(models.Model):
    """A raw open or click as the tracking endpoint received it, waiting to be ingested.

    No foreign keys: the hot path writes one narrow row and nothing else."""

    class Kind(models.TextChoices):
        OPEN = "o", _("Open")
        CLICK = "c", _("Click")

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=1, choices=Kind.choices)
    campaign_id = models.BigIntegerField()
    message_id = models.BigIntegerField()
    link_index = models.IntegerField(null=True)
    occurred_at = models.DateTimeField()
    user_agent = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True)
    method = models.CharField(max_length=8, default="GET")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} m{self.message_id}"


class EmailEvent(models.Model):
    """Something a recipient (or their mail system) did with one message."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        CLICK = "click", _("Click")
        SOFT_BOUNCE = "soft_bounce", _("Soft bounce")
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Complaint")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")

    class MachineReason(models.TextChoices):
        NONE = "", _("Person")
        PRIVACY_PROXY = "privacy_proxy", _("Mail privacy proxy")
        SCANNER = "scanner", _("Link scanner")
        TOO_FAST = "too_fast", _("Too soon after delivery")
        HEAD_REQUEST = "head_request", _("Prefetch (HEAD request)")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="events")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="email_events"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    link = models.ForeignKey(
        CampaignLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField()
    machine_reason = models.CharField(
        max_length=14, choices=MachineReason.choices, blank=True, default=""
    )
    user_agent = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=10, blank=True)  # desktop, mobile, tablet, other
    client = models.CharField(max_length=60, blank=True)  # mail client or browser family
    os = models.CharField(max_length=60, blank=True)
    # Where the event came from (tracking, smtp, dsn, webhook:<esp>, unsubscribe page…) and,
    # for bounces and complaints, the diagnostic the remote system gave.
    source = models.CharField(max_length=30, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["contact", "-occurred_at"], name="event_contact_time"),
            models.Index(fields=["campaign", "kind", "occurred_at"], name="event_campaign_kind"),
            models.Index(fields=["message", "kind"], name="event_message_kind"),
        ]

    def __str__(self):
        return f"{self.kind} m{self.message_id}"

    @property
    def is_machine(self) -> bool:
        return bool(self.machine_reason)


class CampaignStats(models.Model):
    """Event counters of one campaign, maintained as events are recorded.

    Message counts (sent, bounced at the SMTP dialogue, queued…) come from the message table
    (stats/selectors.py caches them); everything recipients do is counted here."""

    campaign = models.OneToOneField(
        EmailCampaign, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    opens_total = models.PositiveIntegerField(default=0)  # human opens
    opens_unique = models.PositiveIntegerField(default=0)  # recipients who opened
    machine_opens = models.PositiveIntegerField(default=0)
    clicks_total = models.PositiveIntegerField(default=0)
    clicks_unique = models.PositiveIntegerField(default=0)  # recipients who clicked
    machine_clicks = models.PositiveIntegerField(default=0)
    unsubscribes = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    hard_bounces = models.PositiveIntegerField(default=0)  # reported after the SMTP dialogue
    soft_bounces = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "campaign stats"

    def __str__(self):
        return f"stats of {self.campaign_id}"


class CampaignActivity(models.Model):
    """Human opens and clicks of a campaign per hour (UTC), for the report's chart."""

    campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "hour"], name="unique_campaign_hour")
        ]

    def __str__(self):
        return f"{self.campaign_id} {self.hour:%Y-%m-%d %H}h"


class CampaignClient(models.Model):
    """Human opens of a campaign per device kind and mail client."""

    campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="+")
    device = models.CharField(max_length=10)
    client = models.CharField(max_length=60)
    opens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "-opens"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "device", "client"], name="unique_campaign_client"
            )
        ]

    def __str__(self):
        return f"{self.device}/{self.client}: {self.opens}"


class SoftBounceCount(models.Model):
    """Consecutive soft bounces of one address: past settings.SOFT_BOUNCE_LIMIT it is treated
    as a hard bounce. Reset by any delivery evidence (an open or a click)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    address_hash = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)
    last_bounced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "address_hash"], name="unique_soft_bounce")
        ]

    def __str__(self):
        return f"{self.address_hash[:12]}…: {self.count}"
