"""Per-account sending pace: never more than N messages a second for one account, whatever the
number of workers, so a provider's rate limit is not overshot.

A fixed one-second window counted in the cache (Redis in production, so all workers share it;
the embedded default's in-process cache paces each worker process on its own).
"""

import time

from django.conf import settings
from django.core.cache import cache


def account_rate(account) -> int:
    policy = getattr(account, "sending_policy", None)
    return policy.messages_per_second if policy else settings.EMAIL_SEND_RATE_PER_ACCOUNT


def wait_for_send_slot(scope, rate: int, *, sleep=time.sleep, clock=time.time) -> None:
    """Block until `scope` (the engine gives "<channel>:<account id>": each channel has its own
    provider and its own limit) may send one more message this second."""
    while True:
        window = int(clock())
        key = f"send-rate:{scope}:{window}"
        cache.add(key, 0, timeout=10)
        try:
            used = cache.incr(key)
        except ValueError:  # the key expired between add and incr: a fresh window
            continue
        if used <= rate:
            return
        sleep(max(0.001, window + 1 - clock()))
