"""Signals of the contact base, for apps built on it (the contact base depends on none of them)."""

from django.dispatch import Signal

# Sent by contact_erase() just before the contact is deleted, with `contact`: every app that
# keeps personal data about it (sent messages, tracking events…) must delete or anonymise it.
contact_erased = Signal()
