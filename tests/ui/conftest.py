"""Fixtures of the page tests without a browser."""

from tests.support.pages import browsers  # noqa: F401  (one signed-in browser per role)
