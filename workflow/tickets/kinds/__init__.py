"""Every kind of ticket, each in its own module; this registry is the one list of them.

A kind is a code (`TicketKind`) and a `Kind`: its label, its plan (what a request of the
kind checks and changes) and its apply (what provisioning does on the phone system).
"""

from __future__ import annotations

from enum import StrEnum

from workflow.tickets.kinds import change, new, revoke
from workflow.tickets.kinds.kind import Kind


class TicketKind(StrEnum):
    """What a ticket asks for."""

    NEW = "new"
    CHANGE = "change"
    REVOKE = "revoke"


#: Every kind by its code, in the order forms offer them and provisioning applies them.
KINDS: dict[str, Kind] = {kind.code: kind for kind in (
    new.KIND,
    change.KIND,
    revoke.KIND,
)}


def kind_of(code: str) -> Kind:
    """The kind with `code` (a `TicketKind` or its value); KeyError for an unknown one."""
    return KINDS[code]
