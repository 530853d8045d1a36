"""Phone-system adapters."""
