import hmac

from accounts.models import Account
from apikeys.models import KEY_PREFIX_LENGTH, ApiKey, hash_key


def api_keys_of(account: Account):
    return ApiKey.objects.filter(account=account)


def active_api_keys(account: Account):
    return api_keys_of(account).filter(revoked_at__isnull=True)


def api_key_for_secret(plaintext: str) -> ApiKey | None:
    """The active key whose secret this is, or None. Constant-time comparison of the hashes."""
    if not plaintext.startswith(("se_live_", "se_test_")) or len(plaintext) <= KEY_PREFIX_LENGTH:
        return None
    candidate = (
        ApiKey.objects.select_related("account")
        .filter(prefix=plaintext[:KEY_PREFIX_LENGTH], revoked_at__isnull=True)
        .first()
    )
    if candidate is None or not hmac.compare_digest(candidate.hashed_key, hash_key(plaintext)):
        return None
    return candidate
