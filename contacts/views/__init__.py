"""HTML pages of the contact base: one module per resource."""
