"""The contact base: fields, contacts, consent ledger, suppression, lists, imports and exports."""

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import IntegerField, Value
from django.db.models.functions import Cast, ExtractDay, ExtractMonth
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from accounts.models import Account
from contacts.model_fields import TypedArrayField


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice")
    MULTICHOICE = "multichoice", _("Multiple choice")
    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone number")
    URL = "url", _("Web address")


class FieldOrigin(models.TextChoices):
    CUSTOM = "custom", _("Custom")
    MAGENTO = "magento", "[MB]"
    PRESTASHOP = "prestashop", "[PS]"


# Columns on Contact, with the type their values are normalised to. Custom fields may not reuse
# these keys.
BUILTIN_FIELDS: dict[str, str] = {
    "email": FieldType.EMAIL,
    "mobile": FieldType.PHONE,
    "salutation": FieldType.CHOICE,
    "first_name": FieldType.TEXT,
    "last_name": FieldType.TEXT,
    "birth_date": FieldType.DATE,
    "zip_code": FieldType.TEXT,
    "city": FieldType.TEXT,
    "country": FieldType.TEXT,
    "company": FieldType.TEXT,
}

field_key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$",
    _("Use lower-case letters, digits and underscores, starting with a letter."),
)


class ContactField(models.Model):
    """A custom, typed field of an account's contact base; values live in Contact.fields."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contact_fields")
    key = models.CharField(_("key"), max_length=63, validators=[field_key_validator])
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=12, choices=FieldType.choices)
    origin = models.CharField(
        _("origin"), max_length=12, choices=FieldOrigin.choices, default=FieldOrigin.CUSTOM
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # Position of a number, decimal or date field's values in Contact.number_values/date_values
    # (contacts.typed_values); None for the other types.
    slot = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="unique_field_key_per_account")
        ]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self) -> str:
        if self.origin == FieldOrigin.CUSTOM:
            return self.label
        return f"{self.get_origin_display()} {self.label}"


class ConsentStatus(models.TextChoices):
    NONE = "none", _("No consent")
    SUBSCRIBED = "subscribed", _("Subscribed")
    PENDING = "pending", _("Pending confirmation")
    SOFT_OPTIN = "soft_optin", _("Soft opt-in (customer)")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


# Statuses that allow marketing messages (GDPR art. 6-7, directive 2002/58/EC art. 13).
SENDABLE_STATUSES = (ConsentStatus.SUBSCRIBED, ConsentStatus.SOFT_OPTIN)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Salutation(models.TextChoices):
    MR = "mr", _("Mr")
    MRS = "mrs", _("Mrs")


class Contact(models.Model):
    # No index of its own: every index of the table starts with the account (unique_contact_key
    # first), and one more index to maintain cost every contact written.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    # The normalised email, or the E.164 mobile for accounts keyed on mobile: what upserts match on.
    key = models.CharField(max_length=254, editable=False)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    mobile = PhoneNumberField(_("mobile"), blank=True)
    salutation = models.CharField(
        _("salutation"), max_length=3, choices=Salutation.choices, blank=True
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    zip_code = models.CharField(_("zip code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Typed copies of the number and date values of `fields`, by slot (contacts.typed_values).
    number_values = TypedArrayField(element="double precision")
    date_values = TypedArrayField(element="date")
    email_status = models.CharField(
        _("email consent"), max_length=12, choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    sms_status = models.CharField(
        _("SMS consent"), max_length=12, choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="unique_contact_key"),
        ]
        indexes = [
            # Birthday segments ("anniversary within N days") filter on month * 100 + day.
            models.Index(
                models.F("account"),
                Cast(
                    ExtractMonth("birth_date") * Value(100) + ExtractDay("birth_date"),
                    IntegerField(),
                ),
                name="contact_birthday",
            ),
            models.Index(fields=["account", "email"], name="contact_account_email"),
            models.Index(fields=["account", "mobile"], name="contact_account_mobile"),
            models.Index(fields=["account", "last_name"], name="contact_account_last_name"),
            # Segment counts read custom numbers and dates from this index alone (no heap
            # access), in id order, so that list conditions become a merge join.
            models.Index(
                fields=["account", "id"],
                include=["number_values", "date_values"],
                name="contact_account_typed_values",
            ),
        ]

    def __str__(self):
        return self.email or str(self.mobile) or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def stored_mobile(contact: Contact) -> str:
    """The contact's mobile as stored (E.164, or ""). Not bool() or str() of the PhoneNumber:
    each validates the number again, at ~10 µs, which bulk writes pay per contact."""
    return getattr(contact.mobile, "raw_input", None) or ""


def address_hash(value: str) -> str:
    """SHA-256 of a normalised address: what suppression and the ledger keep after erasure."""
    return hashlib.sha256(value.encode()).hexdigest()


class ConsentRecord(models.Model):
    """Append-only proof of consent (GDPR art. 7): never updated, never deleted.

    The contact link is cleared on erasure; the hash of the address stays, as proof.
    """

    class Source(models.TextChoices):
        API = "api", _("API")
        IMPORT = "import", _("Import")
        FORM = "form", _("Subscription form")
        UI = "ui", _("Edited by a user")
        DOUBLE_OPTIN = "double_optin", _("Double opt-in confirmation")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
        # A STOP (or ARRET…) sent back by SMS; the reply's words and provider id are the proof.
        SMS_REPLY = "sms_reply", _("SMS reply")
        BOUNCE = "bounce", _("Bounce or complaint")
        CONNECTOR = "connector", _("Shop connector")
        ERASURE = "erasure", _("Erasure")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="consent_records"
    )
    address_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=ConsentStatus.choices)
    source = models.CharField(max_length=14, choices=Source.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    wording = models.TextField(blank=True, help_text=_("The consent text the person agreed to."))
    form = models.CharField(max_length=200, blank=True, help_text=_("Form, import or page name."))
    version = models.CharField(max_length=50, blank=True)
    actor = models.CharField(max_length=200, blank=True, help_text=_("Who recorded the change."))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "address_hash"], name="consent_account_hash")]

    def __str__(self):
        return f"{self.channel} {self.status} ({self.source}, {self.created_at:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)


class Suppression(models.Model):
    """An address that must never be sent marketing again, kept as a hash."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Complaint")
        BLOCKLIST = "blocklist", _("Blocklist")
        ERASED = "erased", _("Erased (GDPR)")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    address_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel", "address_hash"], name="unique_suppression"
            )
        ]

    def __str__(self):
        return f"{self.channel} {self.address_hash[:12]}… ({self.reason})"


class ContactList(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contact_lists")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(Contact, through="ListMembership", related_name="lists")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="unique_list_name")]

    def __str__(self):
        return self.name


class ListMembership(models.Model):
    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBSCRIBED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_list", "contact"], name="unique_membership_row"
            )
        ]
        indexes = [
            models.Index(fields=["contact", "status"], name="membership_contact_status"),
            # A list's subscribed members in contact order: segments merge-join it with contacts.
            models.Index(
                fields=["contact_list", "status", "contact"], name="membership_list_status_contact"
            ),
        ]

    def __str__(self):
        return f"{self.contact_id} in {self.contact_list_id} ({self.status})"


class DuplicatePolicy(models.TextChoices):
    UPDATE = "update", _("Create new contacts and update existing ones")
    SKIP = "skip", _("Create new contacts, leave existing ones untouched")
    UPDATE_ONLY = "update_only", _("Only update existing contacts")


class ContactImport(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=4)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    has_header = models.BooleanField(default=True)
    header = models.JSONField(default=list)
    sample_rows = models.JSONField(default=list)
    # One entry per column: a field key, or null for an ignored column.
    mapping = models.JSONField(default=list)
    duplicate_policy = models.CharField(
        max_length=12, choices=DuplicatePolicy.choices, default=DuplicatePolicy.UPDATE
    )
    target_list = models.ForeignKey(
        ContactList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Consent given to new contacts, with the proof recorded in the ledger.
    email_status = models.CharField(
        max_length=12, choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    sms_status = models.CharField(
        max_length=12, choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    consent_wording = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_report = models.FileField(upload_to="imports/reports/%Y/%m/", blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.original_name} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class Segment(models.Model):
    """A dynamic segment: a rule tree evaluated live (see contacts/segments/)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="unique_segment_name")
        ]

    def __str__(self):
        return self.name
