"""Built-in resource types, one module per type, grouped by namespace."""
