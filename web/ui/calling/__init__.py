"""Calling functions: the admin pages and the call check page, on one blueprint (`bp`)."""

from __future__ import annotations

from web.ui.calling import assignments, audit, check, profiles, roles, trunks, working_time
from web.ui.calling.blueprint import bp

#: The modules whose routes `bp` carries (imported for that).
PAGES = (profiles, assignments, roles, working_time, audit, check, trunks)

__all__ = ["PAGES", "bp"]
