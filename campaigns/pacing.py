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


# A worker takes its slots from the shared counter this many at a time (a twentieth of the
# second's budget, at least one), and spends them itself: two round trips to Redis a message
# cost more than the provider's answer (bench.sms_send). At worst each worker leaves a chunk of
# a second unused: the pace errs on the slow side, never above the rate.
CHUNKS_PER_SECOND = 20

# scope → (window, slots this process holds in it)
_held: dict[str, tuple[int, int]] = {}


def wait_for_send_slot(scope, rate: int, *, sleep=time.sleep, clock=time.time) -> None:
    """Block until `scope` (the engine gives "<channel>:<account id>": each channel has its own
    provider and its own limit) may send one more message this second."""
    chunk = max(1, rate // CHUNKS_PER_SECOND)
    while True:
        window = int(clock())
        held_window, held = _held.get(scope, (window, 0))
        if held_window == window and held > 0:
            _held[scope] = (window, held - 1)
            return
        key = f"send-rate:{scope}:{window}"
        cache.add(key, 0, timeout=10)
        try:
            used = cache.incr(key, chunk)
        except ValueError:  # the key expired between add and incr: a fresh window
            continue
        granted = min(chunk, rate - (used - chunk))
        if granted > 0:
            _held[scope] = (window, granted - 1)
            return
        sleep(max(0.001, window + 1 - clock()))
