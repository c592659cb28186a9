"""Domain events of the contact base, for the apps built on it (it depends on none of them).

Sent with `accounts.domain_events.send_on_commit` (after the write commits, never for a write
that rolls back), except `contact_erased`, which must run inside the erasure so that receivers
can still find the contact.

Who sends what:
- contacts_bulk_upsert (API create, upsert and bulk, the contact form) and contact_update send
  `contact_created` / `contact_updated` per contact written, and `contact_unsubscribed` per
  channel a write unsubscribes; consent_change sends `contact_unsubscribed`. `source` is the
  consent proof's source (contacts.models.ConsentRecord.Source: "api", "ui", "import",
  "connector", "unsubscribe", "bounce", …).
- list_add_contacts sends `contacts_joined_list` once per call, with the contacts that were not
  subscribed members before.
- Imports send no per-contact event, on either engine: the PostgreSQL engine writes its rows in
  SQL, and a Python signal per row would cost it its speed. An import announces itself once,
  with `import_finished`, when it is done; a receiver that needs the contacts reads them then.
"""

from django.dispatch import Signal

# account_id, contact_id, source
contact_created = Signal()
# account_id, contact_id, source
contact_updated = Signal()
# account_id, contact_id, channel ("email", "sms"), source
contact_unsubscribed = Signal()
# account_id, list_id, contact_ids (those list_add_contacts added or subscribed again)
contacts_joined_list = Signal()
# account_id, import_id, created, updated, skipped, errors (row counts of the finished import)
import_finished = Signal()

# Sent by contact_erase() just before the contact is deleted, with `contact`: every app that
# keeps personal data about it (sent messages, tracking events…) must delete or anonymise it.
contact_erased = Signal()
