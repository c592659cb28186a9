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


def wait_for_send_slot(account_id: int, rate: int, *, sleep=time.sleep, clock=time.time) -> None:
    while True:
        window = int(clock())
        key = f"send-rate:{account_id}:{window}"
        cache.add(key, 0, timeout=10)
        try:
            used = cache.incr(key)
        except ValueError:  # the key expired between add and incr: a fresh window
            continue
        if used <= rate:
            return
        sleep(max(0.001, window + 1 - clock()))
