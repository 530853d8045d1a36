"""Background work: Dramatiq actors, the outbox relay and phone-system adapters."""
