"""Signup attempts, counted per IP address and per address typed, in the cache.

Logins are throttled by django-axes (settings AXES_*), which counts failed authentications; a
signup is not an authentication, so axes does not see it. A fixed window in the shared cache
(Redis in production) is enough to stop one machine from creating accounts in bulk."""

from django.core.cache import cache

SIGNUP_LIMIT_PER_IP = 10
SIGNUP_LIMIT_PER_EMAIL = 5
SIGNUP_WINDOW_SECONDS = 3600


def _over(key: str, limit: int) -> bool:
    cache.add(key, 0, timeout=SIGNUP_WINDOW_SECONDS)  # the window starts at the first attempt
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.set(key, 1, timeout=SIGNUP_WINDOW_SECONDS)
        return False


def signup_attempt_allowed(*, ip_address: str, email: str) -> bool:
    """Count this attempt; False once the IP or the address has tried too often this hour."""
    by_ip = _over(f"signup-ip:{ip_address}", SIGNUP_LIMIT_PER_IP)
    by_email = _over(f"signup-email:{email.strip().lower()}", SIGNUP_LIMIT_PER_EMAIL)
    return not (by_ip or by_email)


def verification_resend_allowed(*, user_id: int) -> bool:
    """A signed-in person may ask for the verification link again, a few times an hour."""
    return not _over(f"verification-resend:{user_id}", SIGNUP_LIMIT_PER_EMAIL)
