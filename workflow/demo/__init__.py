"""Demo data: an organisation with staff, tickets, agents and calling functions."""
