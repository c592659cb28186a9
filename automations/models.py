"""Scenarios, their published versions, per-contact enrolments and the due steps the workers run.

A timer is a row (`DueStep.due_at`), never an ETA task nor a scan of contacts: workers claim due
rows with SKIP LOCKED and advance each in one transaction (automations/engine.py).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from campaigns.models import EmailCampaign
from contacts.models import Contact
from sms.models import SmsCampaign


class Trigger(models.TextChoices):
    MANUAL = "manual", _("Enrolled by hand or through the API")
    CONTACT_CREATED = "contact_created", _("Contact created")
    LIST_JOINED = "list_joined", _("Joined a list")
    DATE_ANNIVERSARY = "date_anniversary", _("Anniversary of a date field")
    RELATIVE_DATE = "relative_date", _("Days after a date")
    EMAIL_OPENED = "email_opened", _("Opened an email")
    EMAIL_CLICKED = "email_clicked", _("Clicked in an email")
    EMAIL_NOT_OPENED = "email_not_opened", _("Did not open an email within a number of days")
    SMS_STOP = "sms_stop", _("Replied STOP to an SMS")
    SEGMENT_ENTERED = "segment_entered", _("Entered a segment")
    INACTIVITY = "inactivity", _("Inactive for a number of days")
    CART_ABANDONED = "cart_abandoned", _("Abandoned a cart")
    ORDER_PLACED = "order_placed", _("Placed an order")


class EntryRule(models.TextChoices):
    ONCE = "once", _("Once per contact, ever")
    AGAIN_AFTER = "again_after", _("Again after a number of days")
    NOT_INSIDE = "not_inside", _("Whenever the contact is not already inside")


class ExitEvent(models.TextChoices):
    NONE = "", _("None")
    ORDER_PLACED = "order_placed", _("Placed an order")
    EMAIL_CLICKED = "email_clicked", _("Clicked in an email")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class Scenario(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ARCHIVED = "archived", _("Archived")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    trigger = models.CharField(
        _("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL
    )
    # Trigger settings (automations/flow.py TRIGGER_SETTINGS: field, days, time, list…).
    trigger_config = models.JSONField(default=dict, blank=True)
    # Who may enter: segment rules (contacts' rule language), evaluated for the contact at entry.
    audience_rules = models.JSONField(null=True, blank=True)
    entry_rule = models.CharField(max_length=12, choices=EntryRule.choices, default=EntryRule.ONCE)
    reentry_days = models.PositiveIntegerField(default=0)
    exit_event = models.CharField(
        max_length=20, choices=ExitEvent.choices, default=ExitEvent.NONE, blank=True
    )
    # The draft flow being edited; activation (or an edit while active) publishes it as a version.
    steps = models.JSONField(default=list, blank=True)
    current_version = models.ForeignKey(
        "ScenarioVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The recipe it was made from, if any (automations/recipes.py).
    recipe = models.CharField(max_length=40, blank=True)
    # Date triggers run once a local day: the last local day they ran for.
    triggered_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["account", "trigger", "status"], name="scenario_trigger")]

    def __str__(self):
        return self.name


class ScenarioVersion(models.Model):
    """A published flow, never changed: contacts inside finish on the version they entered."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    steps = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scenario", "number"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "number"], name="unique_scenario_version")
        ]

    def __str__(self):
        return f"{self.scenario} v{self.number}"


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("In progress")
        COMPLETED = "completed", _("Completed")
        EXITED = "exited", _("Exited")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="enrolments")
    version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    exit_reason = models.CharField(max_length=40, blank=True)
    # What made the contact enter ("cart:42", "birthday:2026"): the same cause enrols once.
    trigger_key = models.CharField(max_length=100, blank=True)
    # Data of the cause (the cart's items for {{ cart.items }}…) and the events awaited so far.
    context = models.JSONField(default=dict, blank=True)
    current_step = models.CharField(max_length=40, blank=True)
    entered_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by the test mode: the enrolment is simulated and sends nothing.
    is_test = models.BooleanField(default=False)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            # "While not already inside" for every entry rule, safe under concurrent triggers.
            models.UniqueConstraint(
                fields=["scenario", "contact"],
                condition=Q(status="active"),
                name="one_active_enrolment",
            ),
            models.UniqueConstraint(
                fields=["scenario", "contact", "trigger_key"],
                condition=~Q(trigger_key=""),
                name="one_enrolment_per_cause",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "status"], name="enrolment_contact"),
            models.Index(fields=["scenario", "status"], name="enrolment_scenario"),
        ]

    def __str__(self):
        return f"{self.contact_id} in {self.scenario_id}"


class DueStep(models.Model):
    """One step of one enrolment, to run at `due_at`. Rows stay once done: they are the journey
    shown on a contact's timeline and what per-step statistics count."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CLAIMED = "claimed", _("Running")
        HELD = "held", _("Held (scenario paused)")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField()
    # A "wait until event" step: the event that releases it before its time-out.
    awaiting = models.CharField(max_length=20, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    # What the step did: "sent", "skipped", "yes"/"no" for a branch, "event"/"timeout"…
    outcome = models.CharField(max_length=40, blank=True)
    # enrolment:version:step — never the same step twice for an enrolment.
    idempotency_key = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="duestep_due"),
            models.Index(
                fields=["claimed_at"], condition=Q(status="claimed"), name="duestep_in_flight"
            ),
            models.Index(fields=["scenario", "step_id", "status"], name="duestep_stats"),
        ]

    def __str__(self):
        return f"{self.idempotency_key} ({self.status})"


class StepCampaign(models.Model):
    """The campaign that carries one send step of one version through the send engine's
    single-send path, so its messages have the engine's consent, suppression, tracking and
    reports."""

    version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="+")
    step_id = models.CharField(max_length=40)
    email_campaign = models.ForeignKey(
        EmailCampaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sms_campaign = models.ForeignKey(
        SmsCampaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "step_id"], name="one_campaign_per_step")
        ]

    def __str__(self):
        return f"{self.version} {self.step_id}"
