"""agentdesk domain: agent accounts, setup tickets and their use cases."""
