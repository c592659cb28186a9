"""Writes to the contact base. One module per concept: fields, contacts, consent, lists (imports: contacts.imports)."""
