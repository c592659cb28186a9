"""REST API of email: one module per resource (campaigns, templates, senders and DKIM keys)."""
