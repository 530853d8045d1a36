"""Fixtures of the API and command-line tests."""

from tests.support.cli import runner  # noqa: F401  (the `agentdesk` command on a fresh file)
