import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConflictError
from accounts.models import Account
from apikeys.models import KEY_PREFIX_LENGTH, ApiKey, hash_key

_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40  # ≈ 238 bits of entropy
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyLimitReached(ConflictError):
    code = "api_key_limit_reached"

    def __init__(self, limit: int):
        super().__init__(
            _("You already have %(limit)d active keys: revoke one first.") % {"limit": limit}
        )
        self.limit = limit


def _new_plaintext(mode: str) -> str:
    return f"se_{mode}_" + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))


@transaction.atomic
def api_key_create(*, account: Account, name: str, mode: str, actor=None) -> tuple[ApiKey, str]:
    """Create a key; return it with its plaintext, which is never stored and shown only once."""
    limit = settings.API_KEYS_PER_ACCOUNT
    # Serialise key creation per account (PostgreSQL row lock; SQLite runs IMMEDIATE transactions).
    Account.objects.select_for_update().filter(pk=account.pk).values_list("pk").first()
    used_slots = set(
        ApiKey.objects.filter(account=account, revoked_at__isnull=True).values_list(
            "slot", flat=True
        )
    )
    free_slots = [slot for slot in range(1, limit + 1) if slot not in used_slots]
    if not free_slots:
        raise ApiKeyLimitReached(limit)
    plaintext = _new_plaintext(mode)
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                account=account,
                name=name.strip(),
                mode=mode,
                prefix=plaintext[:KEY_PREFIX_LENGTH],
                hashed_key=hash_key(plaintext),
                slot=free_slots[0],
                created_by=actor,
            )
    except IntegrityError as error:
        raise ApiKeyLimitReached(limit) from error
    return api_key, plaintext


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revocation is immediate: the next request with this key gets 401."""
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so authentication does not write on every request."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
