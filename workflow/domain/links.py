"""The public addresses that letters carry: one base URL, each page's path written once."""

from __future__ import annotations

#: The page of one ticket (the web's ticket route serves it).
TICKET_PATH = "/tickets/{ticket_id}"
#: Where one-time links to a SIP password lead; the token travels in the fragment.
CREDENTIAL_PATH = "/credentials/open"


def ticket_link(base_url: str, ticket_id: int) -> str:
    """The address of a ticket's page."""
    return _joined(base_url, TICKET_PATH.format(ticket_id=ticket_id))


def credential_link(base_url: str, token: str) -> str:
    """The one-time link to a SIP password (the token in the fragment, never sent to a server
    by a browser that follows it)."""
    return f"{_joined(base_url, CREDENTIAL_PATH)}#{token}"


def _joined(base_url: str, path: str) -> str:
    """`path` under the public base URL, with one slash between them."""
    return f"{base_url.rstrip('/')}{path}"
