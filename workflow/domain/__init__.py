"""Pure rules: the ticket state machine, extension, routing and calling rules, errors."""
