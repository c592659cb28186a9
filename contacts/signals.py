"""Domain events of the contact base, for the apps built on it (it depends on none of them).

Sent with `accounts.domain_events.send_on_commit` (after the write commits), except
`contact_erased`, which must run inside the erasure so that receivers can still find the contact.
"""

from django.dispatch import Signal

# account_id, contact_id, source ("api", "ui", "import", "connector", …)
contact_created = Signal()
# account_id, contact_id, source
contact_updated = Signal()
# account_id, contact_id, channel ("email", "sms"), source
contact_unsubscribed = Signal()
# account_id, import_id, created, updated, errors
import_finished = Signal()

# Sent by contact_erase() just before the contact is deleted, with `contact`: every app that
# keeps personal data about it (sent messages, tracking events…) must delete or anonymise it.
contact_erased = Signal()
