import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account

KEY_PREFIX_LENGTH = 16  # "se_live_" + 8 random characters: shown in lists, used to look the key up


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


class ApiKey(models.Model):
    """An account's API credential. Only a prefix and the SHA-256 of the secret are stored."""

    class Mode(models.TextChoices):
        LIVE = "live", _("Live")
        TEST = "test", _("Test (sandbox: nothing leaves the platform)")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices, default=Mode.LIVE)
    prefix = models.CharField(max_length=KEY_PREFIX_LENGTH, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    # One of the account's five slots. The partial unique constraint below makes a sixth active
    # key impossible at the database level, whatever the concurrency.
    slot = models.PositiveSmallIntegerField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "slot"],
                condition=Q(revoked_at__isnull=True),
                name="apikey_one_active_key_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(slot__gte=1) & Q(slot__lte=5), name="apikey_slot_between_1_and_5"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_test(self) -> bool:
        return self.mode == self.Mode.TEST
