"""Domain events: how an app tells the apps above it what happened, without importing them.

Each app defines the signals of its own domain (`contacts/signals.py`, `campaigns/signals.py`) and
sends them with `send_on_commit`, so a receiver (stats, automations, outbound webhooks) only ever
hears of what was committed, and a rolled-back transaction announces nothing. Receivers are
registered by the listening app in its `AppConfig.ready()`; they must be quick and idempotent
(the same event may be sent again after a retried task), and they must not raise: an error in one
receiver is logged and does not stop the others (`send_robust`).
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)


def send_on_commit(signal: Signal, sender, **payload) -> None:
    """Send `signal` once the current transaction commits (at once outside a transaction)."""
    send_each_on_commit(signal, sender, [payload])


def send_each_on_commit(signal: Signal, sender, payloads: list[dict]) -> None:
    """Send `signal` once per payload, in order, once the current transaction commits: what a
    bulk write announces (one commit callback for the batch, not one per contact)."""
    if not payloads or not signal.has_listeners(sender):
        # Nothing listens (receivers connect at start-up): no commit callback for nobody.
        return

    def send() -> None:
        for payload in payloads:
            for receiver, outcome in signal.send_robust(sender=sender, **payload):
                if isinstance(outcome, Exception):
                    logger.error("receiver %r of %r failed", receiver, sender, exc_info=outcome)

    transaction.on_commit(send, robust=False)
