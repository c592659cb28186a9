"""The columns the send engine reads and writes, as abstract models every channel builds on.

A channel's campaign model extends `SendableCampaign` and its message model `SendableMessage`
(email: campaigns.EmailCampaign / Message; SMS: sms.SmsCampaign / SmsMessage), adding its own
account relation, content, address column, constraints and indexes. The engine's claim, record
and recovery queries name these columns, so they are declared once, here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact, ContactList, Segment


class SendableCampaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Sending")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    # The audience: lists ∪ segments − exclusions (then consent and suppression, per channel).
    lists = models.ManyToManyField(ContactList, blank=True, related_name="+")
    segments = models.ManyToManyField(Segment, blank=True, related_name="+")
    excluded_lists = models.ManyToManyField(ContactList, blank=True, related_name="+")
    excluded_segments = models.ManyToManyField(Segment, blank=True, related_name="+")
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Started with a test API key: messages are recorded, never delivered.
    sandbox = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the platform paused the campaign by itself (e.g. its complaint rate), shown to the user.
    pause_reason = models.CharField(max_length=300, blank=True)
    # A campaign that holds single sends (a scenario's step, transactional SMS) rather than an
    # audience: it runs until someone stops it, never finished by the engine for an empty queue.
    standing = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.SCHEDULED}


class SendableMessage(models.Model):
    """One recipient of one campaign: the unit the send engine claims, sends and records."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SANDBOXED = "sandboxed", _("Recorded (sandbox)")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        CANCELLED = "cancelled", _("Cancelled")

    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)  # the provider's id
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set on messages sent one at a time (transactional sends, automation steps): the caller's
    # key, so that a retried call finds its message instead of sending another. NULL (not "")
    # for a campaign's messages: NULLs never collide in the channel's unique constraint.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=200, null=True, blank=True, editable=False
    )

    class Meta:
        abstract = True


class SentJournal(models.Model):
    """The send engine's journal of sent messages, any channel: one row appended as soon as the
    provider accepted a message, folded into the channel's message table a batch at a time
    (campaigns.engine.sending.fold_journal), then deleted.

    Why a journal: a killed worker must re-send at most the message in flight, so each outcome is
    recorded before the next message goes out. An UPDATE of the message row writes into every
    index of the message table (status, sent_at and the provider's id are all indexed): 0.45 to
    0.65 ms a message on the shared 2-core machine, as long as the provider's answer itself
    (bench.sms_send). An INSERT here writes one narrow heap row and the primary key's rightmost
    leaf: 0.09 ms prepared, and it is not waited for (campaigns.engine.journal). The fold then
    updates a batch of message rows in one statement.

    Logged, not UNLOGGED: PostgreSQL empties an unlogged table after a crash and never copies it
    to a standby, which would turn every unfolded outcome (a batch per worker) into a duplicate
    send; a logged row costs about the same once its commit does not wait for the WAL flush.

    No foreign key and no other index: `message_id` names a row of the channel's message table
    (`channel`), and the journal stays a batch long per worker, so reading it is a short scan.
    """

    channel = models.CharField(max_length=10)
    message_id = models.BigIntegerField()
    sent_at = models.DateTimeField()
    provider_id = models.CharField(max_length=255)
    # The channel's own columns written with a sent message (Channel.recorded_with_sent).
    extra = models.JSONField(default=dict)

    class Meta:
        app_label = "campaigns"
        db_table = "campaigns_sent_journal"

    def __str__(self):
        return f"{self.channel} message {self.message_id} sent"
