"""The shop's domain events, for the apps built on the connectors (automations listens; the
connectors import none of them). Sent with `accounts.domain_events.send_on_commit`.

Both may be sent again for the same cart or order (overlapping polls, an order read again after
a change): receivers key their work on `cart_key` / `order_key` and stay idempotent.
"""

from django.dispatch import Signal

# account_id, email, cart_key ("<connection>:<cart id>:<updated>"), items, total, currency
cart_abandoned = Signal()
# account_id, email, order_key ("<connection>:<order id>"), total, currency, created_at (ISO)
order_placed = Signal()
