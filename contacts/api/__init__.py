"""REST API of the contact base: one module per resource."""
