"""Signup attempts and failed logins, counted in the shared cache (Redis in production).

Failed logins are counted three ways. django-axes (settings AXES_*) locks one address on one IP
after 5 failures for 15 minutes: the tight limit, keyed on both so that nobody can lock a
customer out from elsewhere. Two wider hourly limits here catch what that key cannot: one IP
trying many addresses (credential stuffing), and many IPs trying one address (a botnet guessing
one password). They are high enough that an office behind one NAT, or a customer fumbling their
password, never meets them. A signup is not an authentication, so axes does not see it: a fixed
window per IP and per address typed stops one machine from creating accounts in bulk."""

from django.core.cache import cache

SIGNUP_LIMIT_PER_IP = 10
SIGNUP_LIMIT_PER_EMAIL = 5
SIGNUP_WINDOW_SECONDS = 3600
LOGIN_FAILURES_PER_IP = 30
LOGIN_FAILURES_PER_ADDRESS = 20
LOGIN_WINDOW_SECONDS = 3600


def _over(key: str, limit: int, window: int = SIGNUP_WINDOW_SECONDS) -> bool:
    cache.add(key, 0, timeout=window)  # the window starts at the first attempt
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.set(key, 1, timeout=window)
        return False


def signup_attempt_allowed(*, ip_address: str, email: str) -> bool:
    """Count this attempt; False once the IP or the address has tried too often this hour."""
    by_ip = _over(f"signup-ip:{ip_address}", SIGNUP_LIMIT_PER_IP)
    by_email = _over(f"signup-email:{email.strip().lower()}", SIGNUP_LIMIT_PER_EMAIL)
    return not (by_ip or by_email)


def verification_resend_allowed(*, user_id: int) -> bool:
    """A signed-in person may ask for the verification link again, a few times an hour."""
    return not _over(f"verification-resend:{user_id}", SIGNUP_LIMIT_PER_EMAIL)


def _login_keys(*, ip_address: str, username: str) -> tuple[str, str]:
    return f"login-fail-ip:{ip_address}", f"login-fail-address:{username.strip().lower()}"


def login_failure_record(*, ip_address: str, username: str) -> None:
    """Count one failed login against the IP and against the address typed."""
    by_ip, by_address = _login_keys(ip_address=ip_address, username=username)
    _over(by_ip, LOGIN_FAILURES_PER_IP, LOGIN_WINDOW_SECONDS)
    if username.strip():
        _over(by_address, LOGIN_FAILURES_PER_ADDRESS, LOGIN_WINDOW_SECONDS)


def login_attempt_allowed(*, ip_address: str, username: str) -> bool:
    """False while this IP, or this address from anywhere, has failed too often this hour."""
    by_ip, by_address = _login_keys(ip_address=ip_address, username=username)
    return (cache.get(by_ip) or 0) < LOGIN_FAILURES_PER_IP and (
        cache.get(by_address) or 0
    ) < LOGIN_FAILURES_PER_ADDRESS
