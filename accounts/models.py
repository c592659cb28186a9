import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumbers import SUPPORTED_REGIONS


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


def validate_phone_region(value: str) -> None:
    if value not in SUPPORTED_REGIONS:
        raise ValidationError(_("Unknown phone region: %(region)s"), params={"region": value})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        # People type their address with any capitalisation; there is one user per address.
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email.strip().lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in. People reach tenants (accounts) through memberships."""

    username = None
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self):
        return self.email


class Language(models.TextChoices):
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


class Account(models.Model):
    """The tenant: every customer-owned row points to one."""

    name = models.CharField(_("name"), max_length=200)
    number = models.CharField(
        _("account number"),
        max_length=12,
        unique=True,
        editable=False,
        help_text=_("Public account number, used with an API key in HTTP Basic authentication."),
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    default_phone_region = models.CharField(
        _("default phone region"),
        max_length=2,
        default="FR",
        validators=[validate_phone_region],
        help_text=_("Country used to read phone numbers written without +country code."),
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    contact_key = models.CharField(
        _("contact key"),
        max_length=6,
        choices=[("email", _("Email address")), ("mobile", _("Mobile number"))],
        default="email",
        help_text=_("What identifies a contact: one contact per email address, or per mobile."),
    )
    postal_address = models.TextField(
        _("postal address"),
        blank=True,
        help_text=_("Shown in the footer of every marketing email, as the law requires."),
    )
    # Set when the owner followed the link mailed at signup, or when an operator created the
    # account (createaccount, demo): until then the account may not send (accounts.services).
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.number})"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Administrator")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="unique_membership"),
        ]
        ordering = ["account__name", "pk"]

    def __str__(self):
        return f"{self.user} → {self.account} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}


class AccountMilestone(models.Model):
    """A first time something happened in an account, kept even when its other trace goes (a
    test send: the campaign that recorded `test_sent_at` may be deleted), or a choice about the
    account's onboarding (the getting-started checklist dismissed).
    One row per account and kind: reaching it again keeps the first date."""

    class Kind(models.TextChoices):
        TEST_SENT = "test_sent", _("First test sent")
        GETTING_STARTED_DISMISSED = "getting_started_dismissed", _("Getting started dismissed")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    reached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind"], name="unique_account_milestone"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.kind}"
